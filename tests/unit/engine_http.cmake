# Unit tests of engine/http.
