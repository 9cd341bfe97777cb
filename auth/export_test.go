package auth

// ForgetVerified empties the verified-token cache, so a benchmark can measure the SDK's check.
func (a *Auth) ForgetVerified() { a.verified.lru.Purge() }
