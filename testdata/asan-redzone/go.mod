module example.com/redzone

go 1.22
