// Command ferretdb-runner starts FerretDB 1.24 through its embeddable package.
//
// Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: a binary built
// that way panics at start-up ("Invalid build/version/version.txt file content"),
// because the module zip on the Go proxy lacks the generated build/version/version.txt
// that the upstream build tooling writes. The embeddable package skips that check.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretDBVersion must match the FerretDB requirement in go.mod.
const ferretDBVersion = "v1.24.2"

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI (a directory, ending with /)")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql handler")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	// a label only: lets deploy/local/infra.sh recognise its own process in /proc/<pid>/cmdline
	_ = flag.String("onewindow-infra", "", "label for the launcher; not used")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(*level))); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-runner: bad --log-level %q\n", *level)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	// reported to clients by buildInfo as ferretdbVersion (the embeddable build leaves it "unknown")
	version.Get().Version = ferretDBVersion

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-runner: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// always printed, whatever the log level
	fmt.Fprintf(os.Stderr, "ferretdb-runner: FerretDB %s (%s) listening on %s\n", ferretDBVersion, *handler, f.MongoDBURI())
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-runner: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "ferretdb-runner: stopped")
}
