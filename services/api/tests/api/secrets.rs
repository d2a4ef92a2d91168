//! Instance tokens are stored encrypted: the plaintext is in no column and no database page.

use mm_crypto::aad;
use mm_proto::v1;
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::helpers::{TestApp, api_tests, mask};

api_tests!(plaintext_tokens_never_reach_the_database);

const FIRST_TOKEN: &str = "glpat-FirstPlaintextToken-8f3a9";
const SECOND_TOKEN: &str = "glpat-SecondPlaintextToken-77c1e";

async fn stored_token(app: &TestApp, id: i64) -> String {
    let url = &app.api.database.url;
    if url.starts_with("sqlite:") {
        let mut connection = SqliteConnection::connect(url).await.unwrap();
        let value: String =
            sqlx::query_scalar("SELECT encrypted_token FROM instances WHERE id = $1")
                .bind(id)
                .fetch_one(&mut connection)
                .await
                .unwrap();
        connection.close().await.unwrap();
        value
    } else {
        let mut connection = PgConnection::connect(url).await.unwrap();
        let value: String =
            sqlx::query_scalar("SELECT encrypted_token FROM instances WHERE id = $1")
                .bind(id)
                .fetch_one(&mut connection)
                .await
                .unwrap();
        connection.close().await.unwrap();
        value
    }
}

/// Every byte of the SQLite database after a checkpoint, WAL and shared memory included.
async fn sqlite_bytes(app: &TestApp) -> Vec<u8> {
    let path = app.api.database.sqlite_path().unwrap();
    let mut connection = SqliteConnection::connect(&app.api.database.url)
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut side = path.clone().into_os_string();
        side.push(suffix);
        if let Ok(extra) = std::fs::read(side) {
            bytes.extend(extra);
        }
    }
    bytes
}

/// Every value of every text column of the PostgreSQL database, as one string.
async fn postgres_dump(app: &TestApp) -> String {
    let mut connection = PgConnection::connect(&app.api.database.url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(t)::text FROM (SELECT * FROM instances) t \
         UNION ALL SELECT row_to_json(t)::text FROM (SELECT * FROM users) t",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    connection.close().await.unwrap();
    rows.join("\n")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn plaintext_tokens_never_reach_the_database(app: TestApp) {
    let mut client = app.instances();
    let created = client
        .create_instance(v1::CreateInstanceRequest {
            name: "secret-holder".into(),
            url: "https://8.8.8.8".into(),
            description: String::new(),
            token: FIRST_TOKEN.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .instance
        .unwrap();
    assert!(created.token_set);

    let stored = stored_token(&app, created.id).await;
    assert!(stored.starts_with("v1:"), "{stored}");
    assert!(!stored.contains(FIRST_TOKEN));
    let cipher = app.api.ctx.cipher();
    assert_eq!(
        cipher
            .decrypt(&stored, &aad::instance_token(created.id))
            .unwrap(),
        FIRST_TOKEN
    );
    // Bound to its row: the same ciphertext does not decrypt as another instance's token.
    assert!(
        cipher
            .decrypt(&stored, &aad::instance_token(created.id + 1))
            .is_err()
    );

    client
        .update_instance(v1::UpdateInstanceRequest {
            instance: Some(v1::Instance {
                id: created.id,
                ..Default::default()
            }),
            token: SECOND_TOKEN.into(),
            update_mask: mask(&["token"]),
        })
        .await
        .unwrap();
    let rotated = stored_token(&app, created.id).await;
    assert_ne!(rotated, stored);
    assert_eq!(
        cipher
            .decrypt(&rotated, &aad::instance_token(created.id))
            .unwrap(),
        SECOND_TOKEN
    );

    match app.api.ctx.storage().backend() {
        mm_storage::Backend::Sqlite => {
            let bytes = sqlite_bytes(&app).await;
            assert!(contains(&bytes, "secret-holder"), "the scan sees the row");
            assert!(!contains(&bytes, FIRST_TOKEN));
            assert!(!contains(&bytes, SECOND_TOKEN));
        }
        mm_storage::Backend::Postgres => {
            let dump = postgres_dump(&app).await;
            assert!(dump.contains("secret-holder"), "the dump sees the row");
            assert!(!dump.contains(FIRST_TOKEN));
            assert!(!dump.contains(SECOND_TOKEN));
        }
    }
}
