// Package manifestdiff shows how Kubernetes manifests change: a unified diff
// (diff -u) of two texts, and the redaction of Secret values so that a diff
// shown to a person or a model never carries a credential. Helm previews and
// the generic object tools both use it.
package manifestdiff

import (
	"fmt"
	"slices"
	"strings"
)

// contextLines is how many unchanged lines surround each change, as in
// `diff -u`.
const contextLines = 3

// maxEditDistance bounds the diff's work on huge, wholly different inputs
// (time O((N+M)·D), memory O(D²): about 8 MB at the bound); past it the whole
// old text is shown as removed and the new as added.
const maxEditDistance = 1000

type editKind int8

const (
	editEqual editKind = iota
	editDelete
	editInsert
)

type edit struct {
	kind editKind
	line string
}

// Unified returns the unified diff (diff -u format) turning text a into
// text b, or "" when they are equal. The labels name the two sides.
func Unified(fromLabel, toLabel, a, b string) string {
	if a == b {
		return ""
	}
	edits := diffLines(splitLines(a), splitLines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromLabel, toLabel)
	for _, h := range hunks(edits) {
		out.WriteString(h)
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines computes a shortest edit script from a to b with Myers' O(ND)
// algorithm, after trimming the common prefix and suffix, which is where
// manifests of two revisions mostly agree.
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var edits []edit
	for _, l := range a[:pre] {
		edits = append(edits, edit{editEqual, l})
	}
	edits = append(edits, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		edits = append(edits, edit{editEqual, l})
	}
	return edits
}

// myers is the greedy forward algorithm with the trace kept for backtracking
// (E. Myers, "An O(ND) Difference Algorithm and Its Variations", 1986).
func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEditDistance)
	off := limit + 1
	v := make([]int, 2*off+1)
	// trace[d] keeps v[k] for k in [-d-1, d+1] as it was before step d: all
	// that backtracking through step d reads.
	var trace [][]int
	found := false
	for d := 0; d <= limit && !found; d++ {
		trace = append(trace, slices.Clone(v[off-d-1:off+d+2]))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // step down: insert b[y]
			} else {
				x = v[off+k-1] + 1 // step right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return replaceAll(a, b)
	}
	var rev []edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		at := func(k int) int { return trace[d][k+d+1] }
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			rev = append(rev, edit{editEqual, a[x-1]})
			x--
			y--
		}
		if d == 0 {
			break
		}
		if x == prevX {
			rev = append(rev, edit{editInsert, b[y-1]})
			y--
		} else {
			rev = append(rev, edit{editDelete, a[x-1]})
			x--
		}
	}
	slices.Reverse(rev)
	return rev
}

func replaceAll(a, b []string) []edit {
	edits := make([]edit, 0, len(a)+len(b))
	for _, l := range a {
		edits = append(edits, edit{editDelete, l})
	}
	for _, l := range b {
		edits = append(edits, edit{editInsert, l})
	}
	return edits
}

// hunks groups the edits into unified-diff hunks with contextLines of
// context, merging changes whose contexts touch.
func hunks(edits []edit) []string {
	var out []string
	i := 0
	// aLine and bLine are the 0-based line numbers of edits[i] in a and b.
	aLine, bLine := 0, 0
	advance := func(e edit) {
		if e.kind != editInsert {
			aLine++
		}
		if e.kind != editDelete {
			bLine++
		}
	}
	for i < len(edits) {
		// Find the next change.
		j := i
		for j < len(edits) && edits[j].kind == editEqual {
			j++
		}
		if j == len(edits) {
			break
		}
		// Start the hunk contextLines before it.
		start := max(i, j-contextLines)
		for ; i < start; i++ {
			advance(edits[i])
		}
		// Extend the hunk while the next change is within 2*contextLines.
		end := j
		for end < len(edits) {
			if edits[end].kind != editEqual {
				end++
				continue
			}
			run := end
			for run < len(edits) && edits[run].kind == editEqual {
				run++
			}
			if run == len(edits) || run-end > 2*contextLines {
				end = min(end+contextLines, len(edits))
				break
			}
			end = run
		}
		aStart, bStart := aLine, bLine
		var body strings.Builder
		aCount, bCount := 0, 0
		for ; i < end; i++ {
			e := edits[i]
			switch e.kind {
			case editEqual:
				body.WriteString(" " + e.line + "\n")
				aCount++
				bCount++
			case editDelete:
				body.WriteString("-" + e.line + "\n")
				aCount++
			case editInsert:
				body.WriteString("+" + e.line + "\n")
				bCount++
			}
			advance(e)
		}
		out = append(out, fmt.Sprintf("@@ -%s +%s @@\n%s", hunkRange(aStart, aCount), hunkRange(bStart, bCount), body.String()))
	}
	return out
}

// hunkRange formats "start,count" the way diff -u does: 1-based, and an
// empty range names the line before it.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if count == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
