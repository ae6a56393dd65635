module cgoguard.bench/traceworkload

go 1.22
