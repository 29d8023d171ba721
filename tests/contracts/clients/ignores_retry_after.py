"""BROKEN: after a 429 it tries again after 50 ms, whatever Retry-After says.

Expected verdict: rate_limit.honours_retry_after and rate_limit.no_429_after_429.
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
        if failed.status not in (None, 429) and failed.status < 500:
            raise
        time.sleep(0.05)  # BUG: Retry-After ignored
        continue
    ids.extend(page_ids)
done(ids)
