package overflow

import "testing"

func TestInBounds(t *testing.T) {
	if Read(3) != 4 {
		t.Fatal("wrong element")
	}
}

func TestPastTheEnd(t *testing.T) {
	Read(4)
}
