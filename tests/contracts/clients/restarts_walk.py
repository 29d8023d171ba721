"""BROKEN: when a page fails it starts the walk over from the first page (after waiting as asked).

Expected verdict: walk.no_duplicates (the pages before the failure are fetched again).
"""

import time

from clientlib import Failed, arguments, done

client, args = arguments(__doc__)
ids: list[str] = []
query = client.first_query(args.limit)
while query is not None:
    try:
        page_ids, query, _ = client.page(query)
    except Failed as failed:
        if failed.status is not None and failed.status < 500 and failed.status != 429:
            raise
        time.sleep(failed.wait if failed.wait is not None else 0.05)
        ids, query = [], client.first_query(args.limit)  # BUG: back to the first page
        continue
    ids.extend(page_ids)
done(ids)
