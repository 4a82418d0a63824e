"""Verifier readings (lm_verify, tools=called) of the g23 build's records that have LM statistics."""
from pathlib import Path


def main() -> None:
    from train.disc.cached import lm_cache_dir, load_data, read_lm, read_record_ids
    data = Path("out/pref-g23")
    records, pairs = load_data(data)
    cache = lm_cache_dir(data, "default", "called")
    done = read_record_ids(cache)
    records = {k: v for k, v in records.items() if k in done}
    print(f"{len(records)} records with LM statistics in {cache}", flush=True)
    read_lm(records, pairs, cache, base_model="default", lm_tools="called", workers=2, verify=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
