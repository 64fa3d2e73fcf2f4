package manifestdiff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func lines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "l%d\n", i)
	}
	return b.String()
}

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "equal", a: "x\ny\n", b: "x\ny\n", want: ""},
		{
			name: "change in the middle",
			a:    lines(9),
			b:    strings.Replace(lines(9), "l5\n", "five\n", 1),
			want: "--- a\n+++ b\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+five\n l6\n l7\n l8\n",
		},
		{
			name: "insert at the start",
			a:    "x\ny\n",
			b:    "new\nx\ny\n",
			want: "--- a\n+++ b\n@@ -1,2 +1,3 @@\n+new\n x\n y\n",
		},
		{
			name: "append at the end",
			a:    lines(5),
			b:    lines(5) + "l6\n",
			want: "--- a\n+++ b\n@@ -3,3 +3,4 @@\n l3\n l4\n l5\n+l6\n",
		},
		{
			name: "created",
			a:    "",
			b:    "x\ny\n",
			want: "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n",
		},
		{
			name: "deleted",
			a:    "x\n",
			b:    "",
			want: "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n",
		},
		{
			name: "distant changes make two hunks",
			a:    lines(20),
			b:    strings.NewReplacer("l2\n", "two\n", "l18\n", "eighteen\n").Replace(lines(20)),
			want: "--- a\n+++ b\n@@ -1,5 +1,5 @@\n l1\n-l2\n+two\n l3\n l4\n l5\n" +
				"@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+eighteen\n l19\n l20\n",
		},
		{
			name: "near changes share a hunk",
			a:    lines(12),
			b:    strings.NewReplacer("l3\n", "three\n", "l9\n", "nine\n").Replace(lines(12)),
			want: "--- a\n+++ b\n@@ -1,12 +1,12 @@\n l1\n l2\n-l3\n+three\n l4\n l5\n l6\n l7\n l8\n-l9\n+nine\n l10\n l11\n l12\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Unified("a", "b", tt.a, tt.b); got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestDiffLinesIsMinimal checks, on random inputs, that the edit script turns
// a into b and is as short as the longest common subsequence allows.
func TestDiffLinesIsMinimal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	randLines := func() []string {
		out := make([]string, rng.IntN(12))
		for i := range out {
			out[i] = string(rune('a' + rng.IntN(4)))
		}
		return out
	}
	for range 2000 {
		a, b := randLines(), randLines()
		edits := diffLines(a, b)
		var gotA, gotB []string
		changes := 0
		for _, e := range edits {
			if e.kind != editInsert {
				gotA = append(gotA, e.line)
			}
			if e.kind != editDelete {
				gotB = append(gotB, e.line)
			}
			if e.kind != editEqual {
				changes++
			}
		}
		if strings.Join(gotA, ",") != strings.Join(a, ",") || strings.Join(gotB, ",") != strings.Join(b, ",") {
			t.Fatalf("edits of %v → %v rebuild %v → %v", a, b, gotA, gotB)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("%v → %v: %d changes, minimum is %d", a, b, changes, want)
		}
	}
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func TestDiffLinesGivesUpOnHugeInputs(t *testing.T) {
	t.Parallel()
	a := make([]string, maxEditDistance)
	b := make([]string, maxEditDistance)
	for i := range a {
		a[i], b[i] = fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
	}
	edits := diffLines(a, b)
	if len(edits) != 2*maxEditDistance {
		t.Fatalf("%d edits, want a full replacement", len(edits))
	}
}
