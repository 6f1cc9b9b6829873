# e2e tests of the berth CLI.
