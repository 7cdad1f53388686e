-- A line's request and its answer are kept as JSON text, not jsonb: jsonb refuses the NUL
-- character (`\u0000`, valid JSON: text pasted from a binary file, a model echoing it), which made
-- a batch holding one fail its step for ever (validating) or lose the answer. Text keeps the JSON
-- byte for byte, as the output file writes it.
ALTER TABLE batch_lines ALTER COLUMN body TYPE text USING body::text;
ALTER TABLE batch_results ALTER COLUMN result TYPE text USING result::text;
