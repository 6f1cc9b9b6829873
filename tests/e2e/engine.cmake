# e2e tests of berthd.
