package baseline

import (
	"encoding/json"
	"testing"
)

func TestSevLineIsJSONOfTheSizeAsked(t *testing.T) {
	for _, size := range []int{0, 40, 128, 1000} {
		b := SevLine("warn", size)
		var v struct{ Level string }
		if err := json.Unmarshal(b, &v); err != nil || v.Level != "warn" {
			t.Fatalf("SevLine(warn, %d) = %q: level %q, %v", size, b, v.Level, err)
		}
		if head := len(SevLine("warn", 0)); len(b) != max(size, head) {
			t.Fatalf("SevLine(warn, %d) is %d bytes; want %d", size, len(b), max(size, head))
		}
	}
}

func TestSevOfOffersOnePercentEachOfErrAndWarning(t *testing.T) {
	var n [3]int
	for i := range uint64(20000) {
		n[SevOf(i)]++
	}
	if n[SevErr] != 100 || n[SevWarning] != 100 || n[SevInfo] != 19800 {
		t.Fatalf("of 20000 lines: %d err, %d warning, %d info; want 100, 100, 19800", n[SevErr], n[SevWarning], n[SevInfo])
	}
}
