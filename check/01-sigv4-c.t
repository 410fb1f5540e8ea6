# C-level unit test of src/sigv4.c (built with ASan+UBSan by make build-all).
exec ./build/test/sigv4_test
