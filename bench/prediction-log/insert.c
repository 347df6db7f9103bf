/*
 * The prediction log's insert, in C against the system's SQLite: the table and indexes of the store's
 * migration v3, 64-row INSERT OR IGNORE statements, a transaction per batch, WAL with synchronous=NORMAL
 * (as GRDB opens the store). It measures what SQLite itself costs per record, below Slipway's code.
 *
 *   insert DB INDEXES ROWS BATCH
 *     INDEXES  which of the three indexes exist: a sum of 1 (endpoint, request_id, kind, variant),
 *              2 (endpoint, id) and 4 (endpoint, ts); 7 is the store's table
 *     ROWS     records timed, after twice as many untimed ones fill the table
 *     BATCH    records per transaction (a multiple of 64)
 *
 * Prints the process CPU time per timed record in microseconds.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return now.tv_sec + now.tv_nsec * 1e-9;
}

static void run(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "insert: %s: %s\n", sql, error);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: insert DB INDEXES ROWS BATCH\n");
        return 2;
    }
    const char *path = argv[1];
    int indexes = atoi(argv[2]), rows = atoi(argv[3]), batch = atoi(argv[4]);
    if (rows <= 0 || batch <= 0 || batch % 64 != 0 || rows % batch != 0) {
        fprintf(stderr, "insert: ROWS must be a multiple of BATCH, and BATCH of 64\n");
        return 2;
    }
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "insert: cannot open %s\n", path);
        return 1;
    }
    run(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    run(db, "CREATE TABLE predictions (id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, request_id TEXT NOT NULL,"
            " kind TEXT NOT NULL, variant TEXT NOT NULL, ts INTEGER NOT NULL, model_version TEXT NOT NULL, sticky_key TEXT,"
            " features TEXT, prediction TEXT, confidence REAL, latency_ms REAL NOT NULL, status INTEGER NOT NULL,"
            " ground_truth TEXT, outcome REAL, feedback_at INTEGER, feedback_by TEXT)");
    if (indexes & 1) run(db, "CREATE UNIQUE INDEX predictions_request ON predictions(endpoint, request_id, kind, variant)");
    if (indexes & 2) run(db, "CREATE INDEX predictions_endpoint_id ON predictions(endpoint, id)");
    if (indexes & 4) run(db, "CREATE INDEX predictions_endpoint_ts ON predictions(endpoint, ts)");

    char sql[4096] = "INSERT OR IGNORE INTO predictions (endpoint, request_id, kind, variant, ts, model_version, sticky_key,"
                     " features, prediction, confidence, latency_ms, status, ground_truth, outcome, feedback_at, feedback_by) VALUES ";
    for (int row = 0; row < 64; row++) strcat(sql, row ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    sqlite3_stmt *insert;
    if (sqlite3_prepare_v2(db, sql, -1, &insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
        return 1;
    }

    /* Records shaped like the benchmark's: time-ordered request ids as the gateway makes them, a sticky
     * key from a pool, a SHA-256 in hex as hashed features. */
    const long long start = 1790000000000LL;
    const unsigned long long connection = 0x5eed1234abcdULL;
    char request_id[32], sticky[24], features[72];
    srand(7);
    int total = rows * 3;
    double began = 0;
    for (int done = 0; done < total; done += batch) {
        if (done == rows * 2) began = cpu_seconds();
        run(db, "BEGIN IMMEDIATE");
        for (int group = 0; group < batch; group += 64) {
            sqlite3_reset(insert);
            sqlite3_clear_bindings(insert);
            for (int row = 0; row < 64; row++) {
                int n = done + group + row, base = row * 16;
                long long ms = start + n / 20;
                snprintf(request_id, sizeof request_id, "%012llx%012llx%04x", ms, connection, n & 0xffff);
                snprintf(sticky, sizeof sticky, "user-%d", rand() % 1000);
                snprintf(features, sizeof features, "%08x%08x%08x%08x%08x%08x%08x%08x", rand(), n, rand(), rand(), rand(), rand(), n, rand());
                sqlite3_bind_text(insert, base + 1, "bench", -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 2, request_id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 3, "primary", -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 4, n % 2 ? "a" : "b", -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(insert, base + 5, ms);
                sqlite3_bind_text(insert, base + 6, n % 2 ? "m@1" : "m@2", -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 7, sticky, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 8, features, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(insert, base + 9, "1", -1, SQLITE_TRANSIENT);
                sqlite3_bind_double(insert, base + 10, 0.93);
                sqlite3_bind_double(insert, base + 11, 0.41);
                sqlite3_bind_int64(insert, base + 12, 200);
            }
            if (sqlite3_step(insert) != SQLITE_DONE) {
                fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
                return 1;
            }
        }
        run(db, "COMMIT");
    }
    printf("%.3f\n", (cpu_seconds() - began) / rows * 1e6);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return 0;
}
