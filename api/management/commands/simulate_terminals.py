import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api import simulation
from points.verification import ledger_problems


class Command(BaseCommand):
    help = (
        "Drive the terminal API over HTTP with many tills at once: earns on new and known cards, spends, "
        "voids and partial refunds, with lost answers, dropped connections and client timeouts, every retry "
        "with the same Idempotency-Key; then one offline upload per few terminals, and verify the ledger. "
        "Exits non-zero on any 5xx, a replay that differs from the first answer, or a broken ledger. "
        "For a demo or test database only: it issues NEW SECRETS to the terminals it drives (their tills "
        "stop working until given one again) and writes real ledger entries. Without --base-url it serves "
        "this project itself on 127.0.0.1 at a free port; with it, the server must use this database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stores", type=int, required=True, help="Active stores whose terminals take part.")
        parser.add_argument("--minutes", type=float, required=True, help="How long to run; 0.2 is 12 seconds.")
        parser.add_argument("--terminals-per-store", type=int, default=1)
        parser.add_argument("--rate", type=float, default=2.0, help="Operations per second per terminal (average).")
        parser.add_argument(
            "--base-url", default="", help="A running server on this machine, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument("--seed", type=int, default=None, help="Seed for the random choices.")
        parser.add_argument(
            "--cut-bodies",
            action="store_true",
            help="Also drop the line halfway through some request bodies (a server must not act on half a request).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Run although DEBUG is off (the secrets are replaced all the same)."
        )
        parser.add_argument(
            "--batch-items",
            type=int,
            default=4,
            help="Earns in each offline upload; past TERMINAL_API_BATCH_INLINE_MAX the workers apply them.",
        )
        parser.add_argument(
            "--report", default="", help="Write what the tills were told (every final answer) to this JSON file."
        )

    def handle(self, *args, stores, minutes, terminals_per_store, rate, base_url, seed, cut_bodies, force, **options):
        if stores < 1 or minutes <= 0 or terminals_per_store < 1 or rate <= 0:
            raise CommandError("--stores, --minutes, --terminals-per-store and --rate must be positive.")
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this replaces terminal secrets and writes entries. Add --force.")
        try:
            client = simulation.Client(base_url) if base_url else None
        except simulation.NotLoopback as error:
            raise CommandError(str(error)) from None

        terminals = simulation.terminals_prepare(stores=stores, per_store=terminals_per_store)
        if not terminals.secrets:
            raise CommandError("No active store in an active programme has an active terminal.")
        if terminals.stores < stores:
            self.stdout.write(f"Only {terminals.stores} store(s) have active terminals; running with those.")
        self.stdout.write(
            f"Issued new secrets to {len(terminals.secrets)} terminal(s) of {terminals.stores} store(s) "
            f"(their previous secrets no longer work)."
        )
        cards = simulation.cards_known()
        first_entry = simulation.last_entry_id()

        run = {
            "minutes": minutes,
            "rate": rate,
            "seed": seed,
            "cut_bodies": cut_bodies,
            "batch_items": options["batch_items"],
        }
        if client is None:
            # The server sets up logging as it starts; quieten it after that.
            with simulation.local_server() as url, simulation.quiet_request_log():
                self.stdout.write(f"Serving on {url}")
                result = self._drive(simulation.Client(url), terminals, cards, **run)
        else:
            with simulation.quiet_request_log():
                result = self._drive(client, terminals, cards, **run)

        if options["report"]:
            Path(options["report"]).write_text(json.dumps(result.report(), ensure_ascii=False))
        problems = ledger_problems(deep=True)
        entries = simulation.entries_since(first_entry)
        for line in simulation.summary(result, entries=entries, problems=problems):
            self.stdout.write(line)
        if problems or result.tally.failures:
            raise CommandError("The simulation found problems (see above).")
        self.stdout.write(self.style.SUCCESS("No 5xx, every replay identical, ledger verified."))

    def _drive(self, client, terminals, cards, **run):
        self.stdout.write(
            f"Driving {len(terminals.secrets)} terminal(s) for {run['minutes'] * 60:.0f} s at {client.base}"
        )
        result = simulation.drive(client=client, secrets=terminals.secrets, cards=cards, **run)
        result.stores = terminals.stores
        return result
