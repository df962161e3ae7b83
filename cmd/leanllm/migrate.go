package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/leanllm/leanllm-go/migrate"
	"github.com/leanllm/leanllm-go/persist"
)

const migrateAbout = `Manage the schema of the event database.

  up       apply every pending migration (creates a missing SQLite file)
  status   list the migrations and whether each is applied

The SDK and serve migrate automatically at start (auto_migrate); run
"migrate up" yourself when auto_migrate is off or before granting a role
write access only.`

// migrationStatuser is implemented by *persist.SQLStore.
type migrationStatuser interface {
	MigrationStatus(ctx context.Context) ([]migrate.MigrationStatus, error)
}

func (a *app) migrate(ctx context.Context, args []string) error {
	f := a.newFlags("migrate", "leanllm migrate [flags] up|status", migrateAbout).withDB()
	asJSON := f.Bool("json", false, "status: print JSON")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "action: up or status"); err != nil {
		return err
	}
	dbURL := f.dbURL()
	var store persist.Store
	switch pos[0] {
	case "up":
		if store, err = openStore(ctx, dbURL); err != nil {
			return err
		}
	case "status":
		if store, err = openRead(ctx, dbURL); err != nil {
			return err
		}
	default:
		return usageErr("unknown action %q: want up or status", pos[0])
	}
	defer store.Close()
	ms, ok := store.(migrationStatuser)
	if !ok {
		return fmt.Errorf("the store at %s has no schema migrations", redactURL(dbURL))
	}
	if pos[0] == "up" {
		m, ok := store.(persist.Migrator)
		if !ok {
			return fmt.Errorf("the store at %s has no schema migrations", redactURL(dbURL))
		}
		before, err := ms.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		if err := m.Migrate(ctx); err != nil {
			return err
		}
		after, err := ms.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		n := applied(after) - applied(before)
		if n == 0 {
			fmt.Fprintf(a.stdout, "%s is up to date (%d migrations applied)\n", redactURL(dbURL), applied(after))
		} else {
			fmt.Fprintf(a.stdout, "applied %d migration(s) to %s:\n", n, redactURL(dbURL))
			for _, s := range after {
				if s.Applied && !wasApplied(before, s.Name) {
					fmt.Fprintf(a.stdout, "  %s\n", s.Name)
				}
			}
		}
		return nil
	}
	st, err := ms.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, st)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tSTATUS\tAPPLIED AT (UTC)")
	for _, s := range st {
		version, state, at := fmt.Sprint(s.Version), "pending", "-"
		if s.Version == 0 {
			version = "?"
		}
		if s.Applied {
			state = "applied"
			at = s.AppliedAt.UTC().Format("2006-01-02 15:04:05")
			if s.Version == 0 {
				state = "applied (unknown to this build)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", version, s.Name, state, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p := len(st) - applied(st); p > 0 {
		fmt.Fprintf(a.stdout, "\n%d pending: run `leanllm migrate up`\n", p)
	}
	return nil
}

func applied(st []migrate.MigrationStatus) int {
	n := 0
	for _, s := range st {
		if s.Applied {
			n++
		}
	}
	return n
}

func wasApplied(st []migrate.MigrationStatus, name string) bool {
	for _, s := range st {
		if s.Name == name {
			return s.Applied
		}
	}
	return false
}
