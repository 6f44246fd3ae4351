-- Indexes FerretDB 1.24's PostgreSQL backend can use (applied by deploy/local/infra.sh, idempotent).
--
-- FerretDB pushes an equality filter down as `_jsonb->$1 @> $2` (the field name a parameter, the
-- containment operator). The btree indexes it creates, `((_jsonb -> 'field'))`, cannot serve that
-- form, so every find, replace and delete by `_id` (or any indexed field) read the whole table: at
-- 20,000 documents a find_one by _id took 18 ms, a replace 16 ms, a delete 34 ms (docs/performance.md).
-- A GIN index (jsonb_path_ops) on the same expression serves `@>` for any parameter value, in the
-- custom and in the generic plan. This adds one beside `_id` and beside every field FerretDB
-- indexes (the first-level fields of the collection's indexes), on every collection table, now and
-- when FerretDB creates a table or an index. FerretDB neither sees nor lists these indexes; they
-- go with the table when a collection is dropped.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION onewindow_pushdown_indexes(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  field text;
  fields text[] := ARRAY['_id'];
  def text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped) THEN
    RETURN;  -- not a collection (FerretDB's own metadata table has no _jsonb column)
  END IF;
  FOR def IN SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = tbl LOOP
    IF def LIKE '% USING btree %' THEN
      FOR field IN SELECT (regexp_matches(def, '\(_jsonb -> ''([^'']+)''::text\)', 'g'))[1] LOOP
        IF NOT field = ANY (fields) THEN
          fields := fields || field;
        END IF;
      END LOOP;
    END IF;
  END LOOP;
  FOREACH field IN ARRAY fields LOOP
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)',
      left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_' || left(md5(field), 8) || '_owgin',
      tbl, field
    );
  END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION onewindow_pushdown_indexes_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  command record;
  tbl oid;
BEGIN
  FOR command IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    tbl := NULL;
    IF command.command_tag = 'CREATE TABLE' AND command.object_type = 'table' THEN
      tbl := command.objid;
    ELSIF command.command_tag = 'CREATE INDEX' THEN
      -- our own GIN indexes fire this too: only FerretDB's btree indexes lead anywhere
      SELECT i.indrelid INTO tbl FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am a ON a.oid = c.relam WHERE i.indexrelid = command.objid AND a.amname = 'btree';
    END IF;
    IF tbl IS NOT NULL AND command.schema_name NOT IN ('pg_catalog', 'information_schema') THEN
      PERFORM onewindow_pushdown_indexes(tbl);
    END IF;
  END LOOP;
END;
$$;

DROP EVENT TRIGGER IF EXISTS onewindow_pushdown_indexes;
CREATE EVENT TRIGGER onewindow_pushdown_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
  EXECUTE FUNCTION onewindow_pushdown_indexes_on_ddl();

-- the collections that exist already
SELECT count(onewindow_pushdown_indexes(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = '_jsonb' AND NOT a.attisdropped);
