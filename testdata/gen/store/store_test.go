// An external test beside the generated internal ones: both run under
// cgoguard test and cgoguard trace.
package store_test

import (
	"testing"

	"example.com/cgoguard-gen/store"
)

func TestChecksumOfNothing(t *testing.T) {
	if got := store.Checksum(nil); got != 0 {
		t.Fatalf("Checksum(nil) = %d, want 0", got)
	}
}
