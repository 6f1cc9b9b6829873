# Unit tests of engine/spec.
