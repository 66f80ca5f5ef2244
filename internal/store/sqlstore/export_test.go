package sqlstore

// SetFillChunk sets the records FillUnanswered reads at a time, for a test
// of its ranges' boundaries, and returns a function that restores it.
func SetFillChunk(n int64) (restore func()) {
	old := fillChunk
	fillChunk = n
	return func() { fillChunk = old }
}
