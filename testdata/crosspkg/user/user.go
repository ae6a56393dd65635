// Package user does not use cgo itself, but gets C memory from cstr.
package user

import (
	"errors"

	"example.com/crosspkg/cstr"
)

func leaks(name string) error {
	p := cstr.New(name) // want "C memory from cstr.New is not freed on the path that returns at line 13"
	if name == "" {
		return errors.New("empty")
	}
	cstr.Free(p)
	return nil
}

func freesTwice(name string) {
	p := cstr.New(name)
	cstr.Free(p)
	cstr.Free(p) // want "p is freed again by cstr.Free: already freed at line 21 by cstr.Free"
}

func correct(name string) {
	p := cstr.New(name)
	defer cstr.Free(p)
}
