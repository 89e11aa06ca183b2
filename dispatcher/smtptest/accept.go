package smtptest

import "strings"

// AcceptRecipient undoes RejectRecipient for addr (case-insensitive): RCPT TO
// for it is accepted again, as when a full mailbox was emptied or a typo in
// the address book was fixed.
func (s *Server) AcceptRecipient(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rejectTo, strings.ToLower(addr))
}
