# Reads a `query export` directory with Spark exactly as docs/EXPORT.md
# shows (spark.read.parquet on the directory: hive partitions discovered),
# and prints what the test checks as one JSON object. Offline: local[1].
import sys, json, os
os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--master local[1] pyspark-shell")
from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[1]").appName("auth0-archive-export")
         .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(sys.argv[1])
first = df.orderBy("log_id").first()
print(json.dumps({
  "rows": df.count(),
  "schema": {f.name: f.dataType.simpleString() for f in df.schema.fields},
  "days": sorted(str(r[0]) for r in df.select("date").distinct().collect()),
  "first": {"log_id": first["log_id"], "date": str(first["date"]), "epoch_ms": int(df.orderBy("log_id").select((F.unix_micros("ts") / 1000).cast("long")).first()[0]), "raw": first["raw"]},
}))
spark.stop()
