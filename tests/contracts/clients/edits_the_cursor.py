"""BROKEN: "normalizes" each cursor by stripping its base64 padding before sending it back.

The mock happens to accept the edited cursor (so the walk is complete), a platform need not.
Expected verdict: walk.cursors_as_issued.
"""

from clientlib import arguments, done, patiently

client, args = arguments(__doc__)
ids: list[str] = []
query = client.first_query(args.limit)
while query is not None:
    page_ids, query, _ = patiently(client.page, query)
    ids.extend(page_ids)
    if query is not None:
        query = {**query, client.platform.param: query[client.platform.param].rstrip("=")}  # BUG
done(ids)
