// Runs the scenario under `cgoguard test`, so its bug is also seen at run time.
package main

import "testing"

func TestMain(m *testing.M) { main() }
