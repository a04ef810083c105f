package fault

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

type says struct{ temporary bool }

func (says) Error() string     { return "says" }
func (s says) Temporary() bool { return s.temporary }

type perm struct{}

func (perm) Error() string   { return "perm" }
func (perm) Permanent() bool { return true }

func TestOf(t *testing.T) {
	plain := errors.New("plain")
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Unclassified},
		{"plain", plain, Unclassified},
		{"cancelled", context.Canceled, Unclassified},
		{"deadline", context.DeadlineExceeded, Temporary},
		{"marked temporary", AsTemporary(plain), Temporary},
		{"marked permanent", AsPermanent(plain), Permanent},
		{"marked deferred", AsDeferred(plain), Deferred},
		{"wrapped", fmt.Errorf("decode: %w", AsPermanent(plain)), Permanent},
		{"method type", fmt.Errorf("x: %w", perm{}), Permanent},
		{"the outer class wins", AsDeferred(AsPermanent(plain)), Deferred},
		{"a method saying false ends the search", fmt.Errorf("x: %w", says{}), Unclassified},
		{"a method saying true", says{temporary: true}, Temporary},
		{"join: first branch with a class", errors.Join(plain, AsTemporary(plain), AsPermanent(plain)), Temporary},
		{"join without classes", errors.Join(plain, plain), Unclassified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if IsTemporary(tt.err) != (tt.want == Temporary) || IsPermanent(tt.err) != (tt.want == Permanent) || IsDeferred(tt.err) != (tt.want == Deferred) {
				t.Errorf("Is* disagree with Of for %v", tt.err)
			}
		})
	}
	if AsTemporary(nil) != nil {
		t.Error("AsTemporary(nil) is not nil")
	}
	if got := AsPermanent(plain); !errors.Is(got, plain) || got.Error() != "plain" {
		t.Errorf("AsPermanent(plain) = %v, does not wrap it", got)
	}
}
