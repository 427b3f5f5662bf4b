-- model: last_loaded (query)
-- grain: one row (or none)
-- units: none (sha256, a row count)
-- reads: meta.inputs
-- recompute: per file staged (before it is staged: is it unchanged?)
-- params: $dataset, $origin, $file_name, $source_path
-- The content (sha256) and rows of the last file of the dataset loaded from the same place: the data folder's
-- file of the dataset (wherever the folder is), or the drop-folder file of the same name. Records from before
-- origin was kept (origin NULL) match by their full source path.
SELECT sha256, rows
FROM meta.inputs
WHERE dataset = $dataset AND status = 'loaded'
  AND (origin = $origin AND (origin = 'data' OR file_name = $file_name) OR origin IS NULL AND source_path = $source_path)
ORDER BY loaded_at DESC
LIMIT 1;
