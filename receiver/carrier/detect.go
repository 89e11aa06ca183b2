package carrier

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPatternLen is the longest pattern Load accepts, in characters.
const maxPatternLen = 200

// maxNumberLen bounds what Detect considers a tracking number, in bytes
// after NormalizeNumber. The longest documented formats (USPS IMpb with a
// ZIP+4 routing prefix, FedEx 34) stay well below it.
const maxNumberLen = 64

// NormalizeNumber is the form of a tracking number that Detect and the
// catalogue's patterns work on: surrounding white space trimmed, upper-cased,
// and every white space character and '-' removed, so " 1z 999-aa1 " becomes
// "1Z999AA1". It is idempotent. Invalid UTF-8 is replaced by U+FFFD, which no
// pattern of the catalogue matches.
func NormalizeNumber(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, strings.TrimSpace(s))
}

// pattern is one compiled entry of Carrier.Patterns with its specificity.
type pattern struct {
	re       *regexp.Regexp
	literals int // characters the pattern fixes (see literalCount)
	spread   int // max - min match length in characters; math.MaxInt if unbounded
}

// compilePattern compiles one "patterns" entry of catalog.json. It returns
// the pattern and "", or what is wrong with it.
func compilePattern(p string) (pattern, string) {
	switch {
	case p == "":
		return pattern{}, "pattern is empty"
	case utf8.RuneCountInString(p) > maxPatternLen:
		return pattern{}, fmt.Sprintf("longer than %d characters", maxPatternLen)
	case hasControl(p):
		return pattern{}, "contains control characters"
	case !strings.HasPrefix(p, "^") || !strings.HasSuffix(p, "$"):
		return pattern{}, "must start with ^ and end with $ (it is matched against the whole normalized number)"
	}
	tree, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return pattern{}, fmt.Sprintf("does not compile: %v", err)
	}
	if !anchored(tree) {
		return pattern{}, "must be anchored as a whole: ^ must begin and $ must end every match, so group alternatives as ^(?:A|B)$ (and do not use the m flag)"
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return pattern{}, fmt.Sprintf("does not compile: %v", err)
	}
	lo, hi := lengthRange(tree)
	if lo == 0 {
		return pattern{}, "matches the empty string"
	}
	if lit, ok := unmatchableLiteral(tree); ok {
		return pattern{}, fmt.Sprintf("can never match a normalized number: it requires %q, and NormalizeNumber upper-cases numbers and removes white space and '-'", lit)
	}
	spread := math.MaxInt
	if hi >= 0 {
		spread = hi - lo
	}
	return pattern{re: re, literals: literalCount(tree), spread: spread}, ""
}

// anchored reports whether every match of re begins at the start and ends at
// the end of the text: re is a concatenation that starts with \A and ends
// with \z.
func anchored(re *syntax.Regexp) bool {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return false
	}
	return re.Sub[0].Op == syntax.OpBeginText && re.Sub[len(re.Sub)-1].Op == syntax.OpEndText
}

// lengthRange returns the shortest and longest length, in characters, of the
// texts re matches; hi is -1 when there is no upper bound.
func lengthRange(re *syntax.Regexp) (lo, hi int) {
	add := func(a, b int) int {
		if a < 0 || b < 0 {
			return -1
		}
		return a + b
	}
	mul := func(a, n int) int {
		if a < 0 || n < 0 {
			return -1
		}
		return a * n
	}
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune), len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 1
	case syntax.OpCapture:
		return lengthRange(re.Sub[0])
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		l, _ := lengthRange(re.Sub[0])
		return l, -1
	case syntax.OpQuest:
		_, h := lengthRange(re.Sub[0])
		return 0, h
	case syntax.OpRepeat:
		l, h := lengthRange(re.Sub[0])
		if re.Max < 0 {
			return l * re.Min, -1
		}
		return l * re.Min, mul(h, re.Max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			l, h := lengthRange(sub)
			lo, hi = lo+l, add(hi, h)
		}
		return lo, hi
	case syntax.OpAlternate:
		lo, hi = math.MaxInt, 0
		for _, sub := range re.Sub {
			l, h := lengthRange(sub)
			lo = min(lo, l)
			if hi >= 0 && (h < 0 || h > hi) {
				hi = h
			}
		}
		return lo, hi
	}
	// Empty-width assertions, OpEmptyMatch, OpNoMatch.
	return 0, 0
}

// literalCount is the specificity of a pattern: how many characters every
// match must have exactly, as opposed to a class. "^1Z[0-9A-Z]{16}$" fixes 2,
// "^[A-Z]{2}\d{9}GB$" fixes 2, "^\d{12}$" fixes none. Optional parts count
// nothing, repeated parts count their minimum, and alternatives count the
// least of their branches.
func literalCount(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] {
			return 1
		}
	case syntax.OpCapture, syntax.OpPlus:
		return literalCount(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * literalCount(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += literalCount(sub)
		}
		return n
	case syntax.OpAlternate:
		n := math.MaxInt
		for _, sub := range re.Sub {
			n = min(n, literalCount(sub))
		}
		return n
	}
	return 0
}

// unmatchableLiteral finds a case-sensitive literal character, or a class of
// only such characters, that no normalized number contains: a lower-case
// ASCII letter, white space or '-'.
func unmatchableLiteral(re *syntax.Regexp) (string, bool) {
	never := func(r rune) bool { return 'a' <= r && r <= 'z' || r == '-' || unicode.IsSpace(r) }
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			for _, r := range re.Rune {
				if never(r) {
					return string(r), true
				}
			}
		}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return "", false
		}
		for i := 0; i < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 'z'-'a' { // wider than a-z: holds a usable character
				return "", false
			}
			for r := lo; r <= hi; r++ {
				if !never(r) {
					return "", false
				}
			}
		}
		return re.String(), true
	}
	for _, sub := range re.Sub {
		if lit, ok := unmatchableLiteral(sub); ok {
			return lit, true
		}
	}
	return "", false
}

// s10Country returns the country code of n, a normalized number, if n has
// the UPU S10 format (two letters, eight serial digits, a check digit, two
// letters) and its check digit is right. The check digit is 11 minus the sum
// of the serial digits weighted 8 6 4 2 3 5 9 7, modulo 11; 10 becomes 0 and
// 11 becomes 5.
func s10Country(n string) (string, bool) {
	if len(n) != 13 || !isUpper(n[0]) || !isUpper(n[1]) || !isUpper(n[11]) || !isUpper(n[12]) {
		return "", false
	}
	for i := 2; i < 11; i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", false
		}
	}
	if s10CheckDigit(n[2:10]) != n[10]-'0' {
		return "", false
	}
	return n[11:], true
}

// s10CheckDigit computes the S10 check digit of eight ASCII digits.
func s10CheckDigit(serial string) byte {
	weights := [8]int{8, 6, 4, 2, 3, 5, 9, 7}
	sum := 0
	for i, w := range weights {
		sum += int(serial[i]-'0') * w
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 0
	case 11:
		return 5
	default:
		return byte(c)
	}
}

func isUpper(b byte) bool { return 'A' <= b && b <= 'Z' }

// rank orders detected carriers: S10 matches first, then the more literal
// characters the best matching pattern fixes, then the narrower its length
// range, then the slug.
type rank struct {
	index    int // in Catalog.carriers
	s10      bool
	literals int
	spread   int
}

func compareRanks(cat *Catalog) func(a, b rank) int {
	return func(a, b rank) int {
		if a.s10 != b.s10 {
			if a.s10 {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.literals, a.literals); c != 0 {
			return c
		}
		if c := cmp.Compare(a.spread, b.spread); c != 0 {
			return c
		}
		return strings.Compare(cat.carriers[a.index].Slug, cat.carriers[b.index].Slug)
	}
}

// Detect returns the carriers whose tracking number format number has, most
// specific first, as AfterShip's POST /couriers/detect does. The number is
// normalized with NormalizeNumber first. A carrier matches when it sets S10
// and the number is a valid S10 number (right check digit) ending in the
// carrier's country, or when one of its Patterns matches.
//
// Order: the S10 match (there is at most one, the national post of the
// number's country) comes first. Pattern matches follow, ranked by their
// best matching pattern: more literal characters first (a pattern that fixes
// "1Z" or "TBA" before a bare-digits pattern; see the package
// documentation), then a narrower range of lengths first (^\d{12}$ before
// ^\d{11,12}$), then by slug, so the order is deterministic. A carrier
// appears once.
//
// Empty input, input longer than 64 characters once normalized, and
// numbers no carrier matches give nil. The returned Carriers are copies.
func (c *Catalog) Detect(number string) []Carrier {
	return c.detect(number, nil)
}

// DetectIn is Detect restricted to the carriers named by slugs, which are
// matched as Lookup matches codes (slugs or aliases, any case and
// separators), as AfterShip's detect restricts to the slugs of its request.
// Unknown codes are ignored; when none is known, or slugs is empty, the
// result is nil.
func (c *Catalog) DetectIn(number string, slugs []string) []Carrier {
	if c == nil || len(slugs) == 0 {
		return nil
	}
	only := make(map[int]bool, len(slugs))
	for _, code := range slugs {
		if key := fold(code); key != "" {
			if i, ok := c.byKey[key]; ok {
				only[i] = true
			}
		}
	}
	if len(only) == 0 {
		return nil
	}
	return c.detect(number, only)
}

// detect implements Detect and DetectIn; a nil only means all carriers.
func (c *Catalog) detect(number string, only map[int]bool) []Carrier {
	if c == nil {
		return nil
	}
	n := NormalizeNumber(number)
	if n == "" || len(n) > maxNumberLen {
		return nil
	}
	var found []rank
	s10Index := -1
	if country, ok := s10Country(n); ok {
		if i, ok := c.s10[country]; ok && (only == nil || only[i]) {
			s10Index = i
			found = append(found, rank{index: i, s10: true})
		}
	}
	for i, pats := range c.patterns {
		if i == s10Index || only != nil && !only[i] {
			continue
		}
		best := rank{index: i, literals: -1}
		for _, p := range pats {
			if !p.re.MatchString(n) {
				continue
			}
			if p.literals > best.literals || p.literals == best.literals && p.spread < best.spread {
				best.literals, best.spread = p.literals, p.spread
			}
		}
		if best.literals >= 0 {
			found = append(found, best)
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, compareRanks(c))
	out := make([]Carrier, len(found))
	for k, r := range found {
		out[k] = c.carriers[r.index].clone()
	}
	return out
}
