"""Issue 21, the 0.5B trunk against the 1.5B: fit the 0.5B's head on exactly the records the 1.5B read.

The 1.5B's LM read of a build is three times the 0.5B's, so it covers fewer records; a head fitted
on the 0.5B's readings of all its records would differ from the 1.5B's in data as well as in
trunk. This copies the 0.5B's readings of the records ``READ_CACHE`` holds into ``SUBSET_CACHE``
(rows of other records left out) and fits the same head on them, so the two rows of the table
differ in the trunk only.

    python train/results/s9/same_records.py DATA READ_CACHE FROM_CACHE SUBSET_CACHE OUT [INPUTS]

DATA: the build folder; READ_CACHE: the 1.5B's readings cache of it; FROM_CACHE: the 0.5B's;
INPUTS: the head's inputs (default ``features,relevance,lm_stats``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def main() -> None:
    import numpy as np

    from train.disc.cached import candidate_key, load_data, read_record_ids, train_cached
    from train.disc.config import CachedCriticConfig

    data, read_cache, from_cache, subset, out = (Path(a) for a in sys.argv[1:6])
    inputs = tuple((sys.argv[6] if len(sys.argv) > 6 else "features,relevance,lm_stats").split(","))
    records, pairs = load_data(data)
    wanted = read_record_ids(read_cache)
    keys = {candidate_key(p.record_id, side.proposal) for p in pairs if p.record_id in wanted
            for side in (p.chosen, p.rejected)}
    if subset.exists():
        shutil.rmtree(subset)
    subset.mkdir(parents=True)
    shutil.copyfile(from_cache / "readings.json", subset / "readings.json")
    kept_records: set[str] = set()
    for shard in sorted(from_cache.glob("shard_*.npz")):
        with np.load(shard) as columns:
            rows = np.array([str(k) in keys for k in columns["keys"]])
            recs = [str(r) for r in columns["records"] if str(r) in wanted]
            if rows.any():
                np.savez(subset / shard.name, records=np.array(recs), keys=columns["keys"][rows],
                         lm_stats=columns["lm_stats"][rows], hidden=columns["hidden"][rows])
                kept_records.update(recs)
    missing = wanted - kept_records
    print(f"[subset] {len(kept_records)} of the {len(wanted)} records the 1.5B read are in {from_cache}"
          + (f"; {len(missing)} are not, so the fit skips them" if missing else ""))
    meta = json.loads((from_cache / "readings.json").read_text())
    config = CachedCriticConfig(base_model=meta["base_model"], inputs=inputs, lm_tools=meta["lm_tools"],
                                read_limit=len(kept_records))
    train_cached(config, data, out, cache=subset)


if __name__ == "__main__":
    main()
