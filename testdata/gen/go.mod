module example.com/cgoguard-gen

go 1.24
