module example.com/cgoguard-examples

go 1.24
