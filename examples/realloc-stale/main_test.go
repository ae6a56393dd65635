// Runs the scenario under `cgoguard test`, so its bug is also seen at run
// time, then the package's tests (those `cgoguard gen tests` writes, say).
package main

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	main()
	os.Exit(m.Run())
}
