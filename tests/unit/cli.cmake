# Unit tests of cli/.
