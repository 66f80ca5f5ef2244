package store

import (
	"context"
	"log/slog"
)

type loggerKey struct{}

// WithLogger returns a context that carries log, to which the stores
// report what they do at open that can take a while (schema migrations),
// so that an operator who waits sees why.
func WithLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// Logger returns the logger ctx carries (WithLogger), or one that discards
// everything.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
