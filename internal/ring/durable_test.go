package ring

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/ringsink/ringsink/internal/testhook"
)

var bootA, bootB = [16]byte{1, 2, 3}, [16]byte{4, 5, 6}

// durMem returns blank, 8-aligned memory for a durable ring of capa bytes.
func durMem(capa int) []byte {
	words := make([]uint64, DurableSize(capa)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
}

func openDurable(t testing.TB, mem []byte, boot [16]byte) (*ByteRing, Recovery) {
	t.Helper()
	r, rec, err := NewDurableByteRing(mem, boot)
	if err != nil {
		t.Fatal(err)
	}
	return r, rec
}

// drain peeks and releases everything published and returns copies; it
// panics if the ring does not run dry or Release disagrees with Peek.
func drain(r *ByteRing) [][]byte {
	var out [][]byte
	dst := make([][]byte, 7)
	for range 1 << 20 {
		k := r.Peek(dst)
		if k == 0 {
			return out
		}
		for _, p := range dst[:k] {
			out = append(out, bytes.Clone(p))
		}
		if r.Release(k) != k {
			panic("Release released fewer records than Peek returned")
		}
	}
	panic("the ring does not run dry")
}

// deadWrite writes p with the mid-copy hook set to panic, as a producer
// killed half way through its copy, and reports whether it got that far.
func deadWrite(r *ByteRing, p []byte) (claimed bool) {
	testhook.MidCopy = func(uint32, []byte) { panic("killed mid-copy") }
	defer func() {
		testhook.MidCopy = nil
		claimed = recover() != nil
	}()
	r.TryWrite(p)
	return false
}

func rec(i, n int) []byte {
	p := fmt.Appendf(nil, "record %d ", i)
	for len(p) < n {
		p = append(p, byte('a'+i%26))
	}
	return p[:max(n, len(p))]
}

func checkRecords(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestDurableRecoversInOrder(t *testing.T) {
	mem := durMem(4096)
	r, rc := openDurable(t, mem, bootA)
	if !rc.Formatted || rc.Records != 0 {
		t.Fatalf("blank memory: %+v", rc)
	}
	if r.MaxRecord() != 4096/2-16 {
		t.Fatalf("MaxRecord = %d", r.MaxRecord())
	}
	var want [][]byte
	for i := range 40 {
		p := rec(i, i%70)
		if !r.TryWrite(p) {
			t.Fatalf("write %d refused", i)
		}
		want = append(want, p)
	}
	// The consumer sends ten and releases them; then the
	// process dies.
	dst := make([][]byte, 10)
	r.Release(r.Peek(dst))
	want = want[10:]

	r2, rc := openDurable(t, mem, bootA)
	if rc.Formatted || rc.Records != 30 || rc.Unfinished+rc.Damaged+rc.Unverified != 0 {
		t.Fatalf("recovery: %+v", rc)
	}
	if r2.Pending() != 30 {
		t.Fatalf("Pending = %d", r2.Pending())
	}
	// New records follow the recovered ones, over many wraps.
	for i := 40; i < 400; i++ {
		p := rec(i, i%90)
		for !r2.TryWrite(p) {
			if r2.Release(1) == 0 {
				t.Fatal("full ring with nothing to release")
			}
			want = want[1:]
		}
		want = append(want, p)
	}
	r3, rc := openDurable(t, mem, bootA)
	if rc.Records != len(want) {
		t.Fatalf("second recovery: %+v, want %d records", rc, len(want))
	}
	checkRecords(t, drain(r3), want)
}

func TestDurableSkipsAProducerKilledMidCopy(t *testing.T) {
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	var want [][]byte
	for i := range 6 {
		p := rec(i, 40)
		if i == 2 {
			if !deadWrite(r, p) {
				t.Fatal("the hook did not run")
			}
			continue
		}
		r.TryWrite(p)
		want = append(want, p)
	}
	// Live, the consumer stops at the unfinished record.
	if got := r.Peek(make([][]byte, 8)); got != 2 {
		t.Fatalf("Peek = %d before the dead record, want 2", got)
	}
	if r.Quiescent() {
		t.Fatal("Quiescent with a claimed, unpublished record")
	}
	r2, rc := openDurable(t, mem, bootA)
	if rc.Records != 5 || rc.Unfinished != 1 {
		t.Fatalf("recovery: %+v", rc)
	}
	if !r2.Quiescent() {
		t.Fatal("recovered ring not quiescent")
	}
	r2.TryWrite([]byte("after"))
	want = append(want, []byte("after"))
	// Recovery is repeatable: the gap became padding.
	r3, rc := openDurable(t, mem, bootA)
	if rc.Records != 6 || rc.Unfinished != 0 {
		t.Fatalf("second recovery: %+v", rc)
	}
	checkRecords(t, drain(r3), want)
}

func TestDurableClaimWithoutClaimWord(t *testing.T) {
	// A producer killed right after its claim CAS, before its claim word:
	// the record's bytes are all zero, and the records after it are found.
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	r.TryWrite(rec(0, 30))
	tail := r.tail.Load()
	deadWrite(r, rec(1, 30))
	_, pos := unpack(tail)
	clear(r.buf[pos&r.mask : pos&r.mask+r.recordSize(30)])
	r.TryWrite(rec(2, 30))
	_, rc := openDurable(t, mem, bootA)
	if rc.Records != 2 || rc.Unfinished != 0 || rc.Damaged != 0 {
		t.Fatalf("recovery: %+v", rc)
	}
}

func TestDurableReleasedRecordsAreNotResent(t *testing.T) {
	// The process dies inside Release, after the head reached the file and
	// before the released bytes were zeroed.
	mem := durMem(1024)
	r, _ := openDurable(t, mem, bootA)
	for i := range 8 {
		r.TryWrite(rec(i, 50))
	}
	before := bytes.Clone(mem)
	r.Release(r.Peek(make([][]byte, 5)))
	after := bytes.Clone(mem)
	// Undo the zeroing but keep the stored head.
	copy(mem[DurableHeader:], before[DurableHeader:])
	copy(mem[offHead:offHead+8], after[offHead:offHead+8])
	r2, rc := openDurable(t, mem, bootA)
	if rc.Records != 3 {
		t.Fatalf("recovery: %+v, want the 3 unreleased records", rc)
	}
	var want [][]byte
	for i := 5; i < 8; i++ {
		want = append(want, rec(i, 50))
	}
	checkRecords(t, drain(r2), want)
}

func TestDurableAfterRebootOnlySealedRecords(t *testing.T) {
	mem := durMem(2048)
	r, _ := openDurable(t, mem, bootA)
	var want [][]byte
	for i := range 10 {
		r.TryWrite(rec(i, 20))
		if i < 4 {
			want = append(want, rec(i, 20))
		}
	}
	r.Peek(make([][]byte, 2)) // seals nothing
	r.Seal()                  // seals all 10
	for i := 10; i < 13; i++ {
		r.TryWrite(rec(i, 20)) // unsealed
	}
	_, rc := openDurable(t, mem, bootB)
	if rc.Records != 10 || rc.Unverified != 3 {
		t.Fatalf("recovery after a reboot: %+v", rc)
	}
	// A zero boot id (unknown) trusts only sealed records too.
	mem2 := durMem(2048)
	r, _ = openDurable(t, mem2, [16]byte{})
	r.TryWrite(want[0])
	if _, rc = openDurable(t, mem2, [16]byte{}); rc.Records != 0 || rc.Unverified != 1 {
		t.Fatalf("unknown boot: %+v", rc)
	}
}

func TestDurableRejectsForeignMemory(t *testing.T) {
	fresh := func() []byte {
		mem := durMem(256)
		r, _ := openDurable(t, mem, bootA)
		r.TryWrite([]byte("x"))
		return mem
	}
	cases := map[string]func([]byte) []byte{
		"magic":     func(m []byte) []byte { m[0] = 'X'; return m },
		"version":   func(m []byte) []byte { m[offVersion] = 9; return m },
		"truncated": func(m []byte) []byte { return m[:DurableHeader+128] },
		"capacity":  func(m []byte) []byte { m[offLogCap]++; return m },
		"head":      func(m []byte) []byte { m[offHead] = 3; return m },
		"no header": func(m []byte) []byte { clear(m[:8]); return m },
		"short":     func(m []byte) []byte { return m[:100] },
	}
	for name, mutate := range cases {
		mem := mutate(fresh())
		keep := bytes.Clone(mem)
		_, _, err := NewDurableByteRing(mem, bootA)
		if !errors.Is(err, ErrDurableDamaged) {
			t.Errorf("%s: err = %v, want ErrDurableDamaged", name, err)
		}
		if !bytes.Equal(mem, keep) {
			t.Errorf("%s: refused memory was changed", name)
		}
	}
}

// TestDurableDamage flips bytes of a ring's data at random: recovery never
// panics, and what it returns is, in order, a subsequence of the records
// written, each byte for byte.
func TestDurableDamage(t *testing.T) {
	var damaged, cut int
	defer func() {
		if !t.Failed() && (damaged == 0 || cut == 0) {
			t.Fatalf("the flips never hit: %d recoveries counted damage, %d lost records", damaged, cut)
		}
	}()
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 7))
		mem := durMem(1024)
		r, _ := openDurable(t, mem, bootA)
		var written [][]byte
		for i := range 30 {
			p := rec(i, rng.IntN(60))
			if !r.TryWrite(p) {
				break
			}
			written = append(written, p)
		}
		r.Seal()
		for range 1 + rng.IntN(4) {
			mem[DurableHeader+rng.IntN(1024)] ^= byte(1 + rng.IntN(255))
		}
		boot := bootA
		if seed%2 == 1 {
			boot = bootB // after a reboot: sealed records only, all verified
		}
		r2, rc := openDurable(t, mem, boot)
		got := drain(r2)
		j := 0
		for _, g := range got {
			for j < len(written) && !bytes.Equal(written[j], g) {
				j++
			}
			if j == len(written) {
				t.Fatalf("seed %d: recovered %q, not a written record in order (%+v)", seed, g, rc)
			}
			j++
		}
		if len(got) != rc.Records {
			t.Fatalf("seed %d: %d records out, Recovery says %d", seed, len(got), rc.Records)
		}
		damaged += min(rc.Damaged, 1)
		cut += len(written) - len(got)
		// Damage is counted where it costs records that others follow;
		// uncounted, it can only have cut records off the end.
		if rc.Damaged+rc.Unfinished == 0 {
			for i, g := range got {
				if !bytes.Equal(g, written[i]) {
					t.Fatalf("seed %d: record %d lost without a count: %+v", seed, i, rc)
				}
			}
		}
	}
}

// TestDurableConcurrent: producers write while the consumer peeks, seals
// and releases; after they stop, the memory is recovered as after a crash
// and holds exactly the records not released, in order per producer.
func TestDurableConcurrent(t *testing.T) {
	mem := durMem(1 << 14)
	r, _ := openDurable(t, mem, bootA)
	const producers, each = 8, 4000
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := 0; i < each; {
				if r.TryWrite(fmt.Appendf(nil, "%d:%d:%s", p, i, bytes.Repeat([]byte{'z'}, i%50))) {
					i++
				} else {
					runtime.Gosched() // full: let the consumer run (one processor)
				}
			}
		})
	}
	next := make([]int, producers)
	check := func(b []byte) {
		var p, i int
		if _, err := fmt.Sscanf(string(b), "%d:%d:", &p, &i); err != nil || i != next[p] {
			t.Fatalf("record %q: want producer %d's record %d (%v)", b, p, next[p], err)
		}
		next[p]++
	}
	dst := make([][]byte, 64)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		default:
		}
		k := r.Peek(dst)
		if k > 40 { // leave some behind for the recovery
			for _, b := range dst[:k/2] {
				check(b)
			}
			r.Release(k / 2)
		}
		switch {
		case k == 0:
			r.Seal()
			r.WaitUnsealed(done, nil)
		case k <= 40:
			runtime.Gosched() // let producers fill it (one processor)
		}
	}
	left := r.Pending()
	if r.Damaged() != 0 {
		t.Fatalf("%d records counted damaged: a claim in flight was taken for damage", r.Damaged())
	}
	r2, rc := openDurable(t, mem, bootA)
	if rc.Records != left || rc.Unfinished+rc.Damaged != 0 {
		t.Fatalf("recovery: %+v, want %d records", rc, left)
	}
	for _, b := range drain(r2) {
		check(b)
	}
	for p, n := range next {
		if n != each {
			t.Fatalf("producer %d: %d records seen, want %d", p, n, each)
		}
	}
}

// FuzzDurableByteRing drives a durable ring with writes, writes killed
// mid-copy, peeks, seals, releases, crashes and reboots (a recovery with the
// same or another boot id), against a list of the records it must hold.
func FuzzDurableByteRing(f *testing.F) {
	f.Add(uint8(0), []byte{0, 5, 0, 24, 1, 9, 0, 7, 5, 0, 2, 3, 3, 1, 0, 40, 6, 0, 2, 9})
	f.Add(uint8(1), []byte{0, 200, 0, 120, 4, 0, 0, 255, 6, 0, 5, 0, 2, 8, 3, 8})
	f.Fuzz(func(t *testing.T, capExp uint8, ops []byte) {
		type entry struct {
			p            []byte
			dead, sealed bool
		}
		mem := durMem(64 << (capExp % 4))
		boot := bootA
		r, _ := openDurable(t, mem, boot)
		var model []entry
		live := func() int { // records before the first dead one
			for i, e := range model {
				if e.dead {
					return i
				}
			}
			return len(model)
		}
		dst := make([][]byte, 8)
		for i, seq := 0, 0; i+1 < len(ops); i += 2 {
			arg := int(ops[i+1])
			switch ops[i] % 7 {
			case 0, 1: // a write; 1: its producer is killed mid-copy
				// Payloads of header-like words (a published header of
				// some length, a sequence number), not just one byte.
				p := make([]byte, arg%(r.MaxRecord()+1))
				for j := 0; j+8 <= len(p); j += 8 {
					*(*uint64)(unsafe.Pointer(&p[j])) = uint64(seq+j)%64 + 1 | uint64(seq)<<(32*(j/8%2))
				}
				for j := len(p) &^ 7; j < len(p); j++ {
					p[j] = byte(seq)
				}
				seq++
				if ops[i]%7 == 1 {
					if deadWrite(r, p) {
						model = append(model, entry{p: p, dead: true})
					}
				} else if r.TryWrite(p) {
					model = append(model, entry{p: p})
				}
			case 2: // peek
				k := r.Peek(dst[:arg%len(dst)])
				if want := min(arg%len(dst), live()); k != want {
					t.Fatalf("op %d: Peek = %d, want %d", i, k, want)
				}
				for j := range k {
					if !bytes.Equal(dst[j], model[j].p) {
						t.Fatalf("op %d: record %d = %q, want %q", i, j, dst[j], model[j].p)
					}
				}
			case 3:
				want := min(arg%8, live())
				if got := r.Release(arg % 8); got != want {
					t.Fatalf("op %d: Release = %d, want %d", i, got, want)
				}
				model = model[want:]
			case 4:
				if got, want := r.Seal(), live(); got > want {
					t.Fatalf("op %d: Seal = %d, more than the %d live records", i, got, want)
				}
				for j := range live() {
					model[j].sealed = true
				}
			case 5, 6: // crash; 6: and reboot
				trust := ops[i]%7 == 5
				if !trust {
					boot[0]++
				}
				var want [][]byte
				dead, unverified := 0, 0
				for _, e := range model {
					switch {
					case e.dead:
						dead++
					case e.sealed || trust:
						want = append(want, e.p)
					default:
						unverified++
					}
				}
				var rc Recovery
				r, rc = openDurable(t, mem, boot)
				if rc.Records != len(want) || rc.Unfinished != dead || rc.Unverified != unverified || rc.Damaged != 0 {
					t.Fatalf("op %d: recovery %+v; want %d records, %d unfinished, %d unverified", i, rc, len(want), dead, unverified)
				}
				model = model[:0]
				for _, p := range want {
					model = append(model, entry{p: p, sealed: true})
				}
			}
			if r.Pending() != len(model) {
				t.Fatalf("op %d: Pending = %d, model %d", i, r.Pending(), len(model))
			}
		}
	})
}

// BenchmarkDurableRecovery: NewDurableByteRing on a full ring of 128-byte
// records (sealed, as a consumer that held them while the daemon was away
// leaves them): the walk, checksum, renumbering and zeroing of an Open
// after a crash. ns/op is the whole recovery; ns/record per record.
func BenchmarkDurableRecovery(b *testing.B) {
	for _, capa := range []int{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("ring=%dMiB", capa>>20), func(b *testing.B) {
			b.ReportAllocs()
			mem := durMem(capa)
			r, _ := openDurable(b, mem, bootA)
			p := make([]byte, 128)
			for r.TryWrite(p) {
			}
			r.Seal()
			n := r.Pending()
			b.SetBytes(int64(capa))
			b.ResetTimer()
			for range b.N {
				if _, rc := openDurable(b, mem, bootA); rc.Records != n {
					b.Fatalf("recovered %d of %d", rc.Records, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
			b.ReportMetric(float64(n), "records")
		})
	}
}

// TestDurableKillMidZeroing: a kill inside Release's clearing (head
// already in the file) leaves part of a released record; recovery must stop
// there, not read its payload as records, whether the record was sealed or
// not and in this boot or after a reboot. The payload holds well-formed
// headers (an unsealed one, and a sealed one with a valid check), which a
// clear that zeroed the real header first would expose.
func TestDurableKillMidZeroing(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		for _, boot := range [][16]byte{bootA, bootB} {
			for cut := 8; cut <= 80; cut += 8 {
				mem := durMem(1024)
				r, _ := openDurable(t, mem, bootA)
				forged := make([]byte, 96)
				*(*uint64)(unsafe.Pointer(&forged[8])) = 5 + 1 // a header inside the payload...
				*(*uint64)(unsafe.Pointer(&forged[16])) = 99 << 32
				copy(forged[24:], "FORGE")
				*(*uint64)(unsafe.Pointer(&forged[40])) = 5 + 1 // ...and a sealed one
				*(*uint64)(unsafe.Pointer(&forged[48])) = 99<<32 | check(99, []byte("FORGE"))
				copy(forged[56:], "FORGE")
				r.TryWrite([]byte("first"))
				r.TryWrite(forged)
				if sealed {
					r.Seal()
				}
				r.Release(1)
				before := bytes.Clone(mem)
				r.Release(1) // the kill comes while this clears the forged record
				copy(mem[DurableHeader:], before[DurableHeader:])
				start := DurableHeader + int(r.recordSize(5))
				clear(mem[start+8 : start+min(cut, int(r.recordSize(96)))])
				_, rc := openDurable(t, mem, boot)
				if rc.Records != 0 {
					t.Fatalf("sealed %v, reboot %v, cleared %d bytes: recovered %d records from a released one: %+v",
						sealed, boot == bootB, cut, rc.Records, rc)
				}
			}
		}
	}
}

// TestDurableKillMidFormat: a kill while a blank file is formatted (the
// magic comes last) leaves a file the next open formats again.
func TestDurableKillMidFormat(t *testing.T) {
	mem := durMem(256)
	mem[offVersion], mem[offLogCap] = durVersion, 8
	if _, rc := openDurable(t, mem, bootA); !rc.Formatted {
		t.Fatalf("%+v", rc)
	}
}

// FuzzDurableArbitraryMemory (from the review of the spill directory):
// arbitrary data, head and, with capExp >= 128, header bytes. Recovery must
// not panic or hang, must return as many records as it says, a second
// recovery of the recovered memory must return the same records, and the
// ring must work afterwards.
func FuzzDurableArbitraryMemory(f *testing.F) {
	seed := durMem(256)
	r, _ := openDurable(f, seed, bootA)
	r.TryWrite([]byte("hello"))
	r.TryWrite([]byte("world!!"))
	r.Seal()
	f.Add(uint8(2), bytes.Clone(seed[DurableHeader:]), *(*uint64)(unsafe.Pointer(&seed[offHead])), true)
	f.Add(uint8(2), bytes.Clone(seed[DurableHeader:]), *(*uint64)(unsafe.Pointer(&seed[offHead])), false)
	f.Add(uint8(130), bytes.Clone(seed), uint64(0), true)
	f.Add(uint8(0), []byte{}, uint64(1<<32|8), false)
	f.Fuzz(func(t *testing.T, capExp uint8, data []byte, head uint64, trust bool) {
		mem := durMem(64 << (capExp % 4))
		if capExp >= 128 {
			copy(mem, data)
		} else {
			copy(mem[DurableHeader:], data)
			copy(mem, durMagic[:])
			mem[offVersion] = durVersion
			mem[offLogCap] = byte(6 + capExp%4)
			*(*uint64)(unsafe.Pointer(&mem[offHead])) = head
		}
		boot := bootB
		if trust {
			boot = bootA
			copy(mem[offBoot:offBoot+16], bootA[:])
		}
		r, rc, err := NewDurableByteRing(mem, boot)
		if err != nil {
			return
		}
		snap := bytes.Clone(mem)
		got := drain(r)
		if len(got) != rc.Records {
			t.Fatalf("drained %d, Recovery says %d", len(got), rc.Records)
		}
		r2, rc2, err := NewDurableByteRing(snap, boot)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		got2 := drain(r2)
		if len(got2) != len(got) {
			t.Fatalf("second recovery %d records (%+v), first %d (%+v)", len(got2), rc2, len(got), rc)
		}
		for i := range got {
			if !bytes.Equal(got[i], got2[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
		for i := range 100 {
			if !r.TryWrite([]byte("after recovery")) {
				break
			}
			if i%3 == 0 {
				r.Release(r.Peek(make([][]byte, 2)))
			}
		}
		drain(r)
	})
}
