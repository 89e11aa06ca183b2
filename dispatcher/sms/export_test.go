package sms

// SetFindPageSize sets the PageSize FindSent asks for (50 otherwise).
func SetFindPageSize(t *Twilio, n int) { t.pageSize = n }

// SetMaxListResponse sets the bound on one list page's body.
func SetMaxListResponse(t *Twilio, n int64) { t.maxListResponse = n }
