-- The digest of the model file ONNX Runtime loads (the artifact itself for a raw .onnx, model.onnx of a bundle),
-- checked before each load. Empty for versions catalogued before it was recorded.
ALTER TABLE model_version ADD COLUMN IF NOT EXISTS model_file_digest VARCHAR(80);
