module cgoguard.test/trace

go 1.22
