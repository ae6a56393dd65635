module cgoguard.test/production

go 1.22
