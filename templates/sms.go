package templates

import (
	"strings"
	"unicode/utf16"
)

// Segment sizes of a text message: one segment, or each part of a
// concatenated message (the rest of the 140 bytes holds the header that
// joins the parts).
const (
	gsmSingle  = 160 // septets
	gsmPart    = 153
	ucs2Single = 70 // UTF-16 code units
	ucs2Part   = 67
)

// gsmBasicNonASCII is the non-ASCII part of the GSM 03.38 basic character
// set. Every printable ASCII character is in the basic set too, except the
// backtick (in neither) and the ones in gsmExtension.
const gsmBasicNonASCII = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"

// gsmExtension is the GSM 03.38 extension table: each takes two septets
// (an escape and the character).
const gsmExtension = "\f^{}\\[~]|€"

// gsmSeptets is how many septets r takes in GSM-7, or 0 when GSM-7 cannot
// encode it.
func gsmSeptets(r rune) int {
	switch {
	case strings.ContainsRune(gsmExtension, r):
		return 2
	case r == '\n' || r == '\r':
		return 1
	case r == '`':
		return 0
	case r >= ' ' && r <= '~':
		return 1
	case r > '~' && strings.ContainsRune(gsmBasicNonASCII, r):
		return 1
	}
	return 0
}

// SMSSegments reports whether body can be sent in the GSM-7 alphabet and
// how many segments it takes: up to 160 septets in one, else 153 per part,
// an extension character ({ } [ ] ~ \ | ^ €) counting as two; a body with
// any other character is sent as UCS-2, up to 70 UTF-16 units in one, else
// 67 per part. As phones do, a two-septet character or a surrogate pair is
// never split across parts. An empty body takes no segment.
func SMSSegments(body string) (gsm7 bool, segments int) {
	if body == "" {
		return true, 0
	}
	size := gsmSeptets
	single, part := gsmSingle, gsmPart
	gsm7 = true
	for _, r := range body {
		if gsmSeptets(r) == 0 {
			gsm7 = false
			size = ucs2Units
			single, part = ucs2Single, ucs2Part
			break
		}
	}
	total := 0
	for _, r := range body {
		total += size(r)
	}
	if total <= single {
		return gsm7, 1
	}
	segments, used := 1, 0
	for _, r := range body {
		n := size(r)
		if used+n > part {
			segments++
			used = 0
		}
		used += n
	}
	return gsm7, segments
}

// ucs2Units is how many UTF-16 code units r takes: 2 outside the Basic
// Multilingual Plane (most emoji), else 1.
func ucs2Units(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1 // invalid UTF-8 is sent as U+FFFD
}
