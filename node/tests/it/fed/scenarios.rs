//! Delivery scenarios on real `puente` processes. Every delivery scenario runs three ways —
//! good link; link cut then healed; receiver stopped, sender killed -9 and restarted first —
//! and after each: nothing lost (every published entry arrives, the latest revision wins),
//! nothing applied twice, stream heads equal on both sides (`federation status` JSON), every
//! envelope received once and held as sent in the sender's evidence log, audit trails intact.

use std::time::Duration;

use super::cluster::{heads_equal, wait_until, Cluster, ClusterOptions};
use super::fake_peer::TRUST_REFRESH;
use super::proxy::Mode;

const DIR: &str = "directory";

/// GTM and HND only (the governance holders need not run).
async fn pair() -> Cluster {
    Cluster::start_with(ClusterOptions::with(&["GTM", "HND"])).await
}

// ---------------------------------------------------------------------------------------------
// Good links

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_publications_reach_every_member_over_good_links() {
    let c = Cluster::start().await;
    for id in ["GTM", "HND", "SLV"] {
        c.node(id).publish_n(2).await;
    }
    c.node("GTM").publish().await;
    for (from, to) in [
        ("GTM", ["HND", "SLV"]),
        ("HND", ["GTM", "SLV"]),
        ("SLV", ["GTM", "HND"]),
    ] {
        c.assert_delivered(from, &to).await;
    }
    // Latest revision wins: a changed contact replaces the old one everywhere.
    let old = c.node("HND").published()[0].clone();
    let new = c.node("HND").update(0).await;
    c.assert_delivered("HND", &["GTM", "SLV"]).await;
    for id in ["GTM", "SLV"] {
        let d = c.node(id).directory_text().await;
        assert!(
            d.contains(&new) && !d.contains(&format!("\"{old}\"")),
            "{id}: {d}"
        );
    }
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_publications_arrive_over_a_slow_link() {
    let c = pair().await;
    c.node("HND").proxy.set_mode(Mode::Delay(300));
    c.node("GTM").publish_n(3).await;
    c.assert_delivered("GTM", &["HND"]).await;
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// Link cut, then healed

/// GTM publishes while its link into HND is faulted by `mode` (and HND cannot reach GTM
/// either, so it cannot pull or post acks: a partition); nothing may arrive (unless the fault
/// lets requests through), and after healing everything arrives once.
async fn cut_then_heal(mode: Mode, requests_get_through: bool) {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    gtm.publish().await;
    c.assert_delivered("GTM", &["HND"]).await;
    let before = hnd.status().await.head_from("GTM", DIR);

    hnd.proxy.set_mode(mode);
    gtm.proxy.set_mode(Mode::Refuse);
    let cut_at = hnd.proxy.connections();
    gtm.publish_n(2).await;
    gtm.update(0).await;
    // The sender keeps trying through the fault.
    c.wait_for(
        "GTM to try again through the fault",
        Duration::from_secs(10),
        || async { hnd.proxy.connections() >= cut_at + 2 },
    )
    .await;
    let s = gtm.status().await;
    let out = s.out_to("HND", DIR).unwrap();
    assert!(
        out.acked_seq < out.last_seq,
        "nothing can be acked through {mode:?}: {out:?}"
    );
    if !requests_get_through {
        assert_eq!(hnd.status().await.head_from("GTM", DIR), before);
    }
    let p = s.peer("HND", DIR).expect("delivery state of HND");
    assert!(p.backlog >= 1, "the backlog shows: {p:?}");

    hnd.proxy.set_mode(Mode::Pass);
    gtm.proxy.set_mode(Mode::Pass);
    gtm.publish().await;
    c.assert_delivered("GTM", &["HND"]).await;
    let p = gtm.status().await;
    let p = p.peer("HND", DIR).unwrap();
    assert_eq!(p.backlog, 0, "{p:?}");
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_delivery_resumes_after_a_refusing_link_heals() {
    cut_then_heal(Mode::Refuse, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_delivery_resumes_after_a_blackholed_link_heals() {
    cut_then_heal(Mode::Blackhole, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_delivery_resumes_after_requests_cut_mid_way() {
    // A fresh connection's TLS 1.3 handshake with client certificate is about 880 bytes from
    // the client, a small GET about 120 more, a POST of one directory envelope over 900: 1200
    // bytes let the handshake through and cut the first push in the middle.
    cut_then_heal(Mode::CutMidRequest(1200), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_acks_make_the_sender_resend_without_anything_applied_twice() {
    // One-way link: HND receives and stores, GTM never hears the ack and resends; HND answers
    // `duplicate` once the link heals. (HND cannot reach GTM meanwhile: no pull, no posted ack.)
    cut_then_heal(Mode::OneWay, true).await;
}

// ---------------------------------------------------------------------------------------------
// Receiver stopped; sender killed -9 and restarted first

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_delivery_survives_a_stopped_receiver_and_a_sender_killed_and_restarted() {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    gtm.publish().await;
    c.assert_delivered("GTM", &["HND"]).await;

    hnd.stop().await;
    gtm.publish_n(2).await;
    // Let GTM fail against the stopped receiver at least once, then crash it.
    c.wait_for("GTM to see HND down", Duration::from_secs(10), || async {
        gtm.status()
            .await
            .peer("HND", DIR)
            .is_some_and(|p| p.failures > 0)
    })
    .await;
    gtm.kill();
    gtm.start().await;
    gtm.publish().await;
    hnd.start().await;
    c.assert_delivered("GTM", &["HND"]).await;
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_right_after_publishing_delivers_after_restart() {
    // kill -9 at once after the outbox write: the envelope is durable and goes out once.
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.stop().await;
    for _ in 0..3 {
        gtm.publish().await;
        gtm.kill();
        gtm.start().await;
    }
    hnd.start().await;
    c.assert_delivered("GTM", &["HND"]).await;
    // And a receiver killed -9 in the middle of a stream keeps what it acked.
    hnd.kill();
    gtm.publish_n(2).await;
    hnd.start().await;
    c.assert_delivered("GTM", &["HND"]).await;
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// Trust changes through a new manifest

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_suspended_by_a_new_manifest_is_refused() {
    // HND's publication is queued while HND and GTM are cut off from each other (so HND
    // cannot learn of its suspension first); GTM installs a manifest suspending HND; when the
    // link heals, HND delivers and GTM refuses it (origin_not_active), storing nothing.
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.publish().await;
    c.assert_delivered("HND", &["GTM"]).await;
    let v = gtm.status().await.manifest_version;
    let head_before = gtm.status().await.head_from("HND", DIR);

    c.set_all(Mode::Refuse);
    let late = hnd.publish().await;
    let path = c.next_manifest(&["--suspend", "HND"]).await;
    gtm.cli_ok(&["federation", "install-manifest", &path]).await;
    assert_eq!(gtm.status().await.manifest_version, v + 1);
    // The running node re-reads the manifest installed by the command line periodically.
    tokio::time::sleep(TRUST_REFRESH).await;
    let s = hnd.status().await;
    let out = s.out_to("GTM", DIR).unwrap();
    assert!(out.acked_seq < out.last_seq, "queued at HND: {out:?}");

    c.set_all(Mode::Pass);
    // HND either delivers and is refused (origin_not_active), or first learns the new
    // manifest from GTM and holds back; either way nothing more from HND is accepted.
    c.wait_for(
        "HND to be refused by GTM (origin_not_active) or to learn it is suspended",
        Duration::from_secs(15),
        || async {
            let s = hnd.status().await;
            s.manifest_version > v
                || s.peer("GTM", DIR).is_some_and(|p| {
                    p.last_error
                        .as_deref()
                        .is_some_and(|e| e.contains("origin_not_active"))
                })
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let s = hnd.status().await;
    let out = s.out_to("GTM", DIR).unwrap();
    assert!(
        out.acked_seq < out.last_seq,
        "still pending at HND: {out:?}"
    );
    assert_eq!(
        gtm.status().await.head_from("HND", DIR),
        head_before,
        "a suspended member's envelope was accepted"
    );
    assert!(
        !gtm.directory_text().await.contains(&late),
        "a suspended member's publication was applied"
    );

    // Active again: what HND held back arrives, nothing lost.
    let path = c.next_manifest(&["--activate", "HND"]).await;
    gtm.cli_ok(&["federation", "install-manifest", &path]).await;
    c.assert_delivered("HND", &["GTM"]).await;
    assert!(gtm.directory_text().await.contains(&late));
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_revoked_by_a_new_manifest_is_refused_and_the_envelope_kept_pending() {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.publish().await;
    c.assert_delivered("HND", &["GTM"]).await;
    let key = c.member_info["HND"]["signing_keys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = c.next_manifest(&["--revoke-key", &key]).await;
    gtm.cli_ok(&["federation", "install-manifest", &path]).await;
    tokio::time::sleep(TRUST_REFRESH).await;
    let head_before = gtm.status().await.head_from("HND", DIR);
    let late = hnd.publish().await;
    // Refused (not rejected): the outbox row stays pending with the reason shown.
    c.wait_for(
        "HND's envelope to be refused with key_revoked",
        Duration::from_secs(15),
        || async {
            hnd.query_i64(
                "SELECT COALESCE(reason, ''), COUNT(*) FROM fed_outbox \
                 WHERE destination = 'GTM' AND status = 'pending' AND last_result = 'refused' \
                 GROUP BY reason",
            )
            .await
            .iter()
            .any(|(r, _)| r.contains("key_revoked"))
        },
    )
    .await;
    let s = hnd.status().await;
    let out = s.out_to("GTM", DIR).unwrap();
    assert!(
        out.acked_seq < out.last_seq,
        "refused, so still pending: {out:?}"
    );
    assert_eq!(gtm.status().await.head_from("HND", DIR), head_before);
    assert!(!gtm.directory_text().await.contains(&late));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_or_conflicting_manifest_is_not_installed() {
    let c = pair().await;
    let gtm = c.node("GTM");
    let old = c.root.join("manifest-old.json");
    std::fs::copy(c.manifest_path(), &old).unwrap();
    let path = c.next_manifest(&["--valid-days", "25"]).await;
    gtm.cli_ok(&["federation", "install-manifest", &path]).await;
    let v = gtm.status().await.manifest_version;
    // Rollback to the version before.
    let out = gtm
        .cli(&["federation", "install-manifest", &old.display().to_string()])
        .await;
    assert_ne!(out.code, 0, "an older manifest was installed");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("manifest_rollback"),
        "the reason code: {out:?}"
    );
    // Signed by one holder only: below the threshold.
    let path = c.manifest_path();
    c.run(&[
        "federation",
        "edit",
        "--manifest",
        &path,
        "--valid-days",
        "20",
    ])
    .await
    .ok("edit");
    c.sign_manifest(&path, &["SLV"]).await;
    let out = gtm.cli(&["federation", "install-manifest", &path]).await;
    assert_ne!(out.code, 0, "a manifest below the threshold installed");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("manifest_signatures"),
        "{out:?}"
    );
    assert_eq!(gtm.status().await.manifest_version, v);
}

// ---------------------------------------------------------------------------------------------
// Restore from an old backup: a new epoch

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_from_an_old_backup_starts_a_new_epoch_and_peers_accept_it() {
    // GTM is restored to a backup older than what HND has received from it. Its next
    // publication would reuse sequence numbers HND already holds: GTM must notice (HND's
    // answer, or its heads) and start a new epoch, and HND must accept it; the directory HND
    // shows is GTM's current one (latest revision wins), nothing lost after the restore.
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    gtm.publish_n(2).await;
    c.assert_delivered("GTM", &["HND"]).await;
    gtm.stop().await;
    let backup = gtm.backup("old").await;
    gtm.start().await;
    let lost = gtm.publish_n(2).await;
    c.assert_delivered("GTM", &["HND"]).await;
    let seen = hnd.status().await;
    let old_epoch = seen.in_from("GTM", DIR).unwrap().epoch;

    gtm.stop().await;
    gtm.restore(&backup).await;
    gtm.start().await;
    gtm.publish().await;
    c.wait_for(
        "GTM to start a new epoch after finding HND ahead of it",
        Duration::from_secs(20),
        || async { gtm.status().await.epoch > old_epoch },
    )
    .await;
    c.assert_delivered("GTM", &["HND"]).await;
    let (g, h) = (gtm.status().await, hnd.status().await);
    heads_equal(&g, &h, DIR).unwrap();
    assert_eq!(h.in_from("GTM", DIR).unwrap().epoch, g.epoch, "{h:?}");
    assert_eq!(
        g.out_to("HND", DIR).unwrap().epoch,
        g.epoch,
        "new envelopes go in the new epoch"
    );
    // Latest revision wins: what GTM lost with the restore is gone at HND too, nothing else.
    c.assert_directory_matches("GTM", "HND").await;
    let dir = hnd.directory_text().await;
    for l in &lost {
        assert!(!dir.contains(l.as_str()), "{l} survived the restore at HND");
    }
    // The epoch bump went as a control message, and HND holds it.
    let control = h.in_from("GTM", "control");
    assert!(
        control.is_some(),
        "no control stream from GTM at HND: {h:?}"
    );
    c.assert_audit_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restored_from_an_old_backup_gets_again_what_its_peers_had_sent_it() {
    // GTM is restored to a backup older than what it had received from HND. HND's next
    // envelope leaves a gap at GTM: HND must send again what GTM lost, although GTM had acked
    // it before the restore.
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    hnd.publish().await;
    c.assert_delivered("HND", &["GTM"]).await;
    gtm.stop().await;
    let backup = gtm.backup("old").await;
    gtm.start().await;
    hnd.publish_n(2).await;
    c.assert_delivered("HND", &["GTM"]).await;
    gtm.stop().await;
    gtm.restore(&backup).await;
    gtm.start().await;
    hnd.publish().await;
    c.assert_delivered("HND", &["GTM"]).await;
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// One-way reachability

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_the_sender_cannot_reach_pulls_its_stream() {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    // GTM cannot open connections to HND; HND reaches GTM.
    hnd.proxy.set_mode(Mode::Refuse);
    let upstream = hnd.proxy.upstream_connections();
    gtm.publish_n(3).await;
    c.assert_delivered("GTM", &["HND"]).await;
    assert_eq!(
        hnd.proxy.upstream_connections(),
        upstream,
        "nothing reached HND's listener: the stream came by pull"
    );
    // And the sender learnt of the delivery (signed acks posted back).
    let s = gtm.status().await;
    let out = s.out_to("HND", DIR).unwrap();
    assert_eq!(out.acked_seq, out.last_seq);
}

// ---------------------------------------------------------------------------------------------
// Replicas on PostgreSQL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_one_node_on_postgresql_deliver_each_envelope_once() {
    if std::env::var("TEST_DATABASE_URL").map_or(true, |v| v.is_empty()) {
        eprintln!("skipped: replicas need TEST_DATABASE_URL (PostgreSQL)");
        return;
    }
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    gtm.start_replica().await;
    // HND's replicas too: its proxy spreads GTM's requests over both.
    hnd.start_replica().await;
    gtm.publish_n(4).await;
    c.assert_delivered("GTM", &["HND"]).await;
    // One replica dies (kill -9): the other takes the delivery over once the lease runs out.
    gtm.kill_one(0);
    gtm.publish_n(2).await;
    c.assert_delivered("GTM", &["HND"]).await;
    // Each envelope went out once: HND acked each sequence number once (evidence).
    let acks = hnd
        .query_i64(
            "SELECT CAST(stream_seq AS TEXT), COUNT(*) FROM fed_evidence \
             WHERE direction = 'received' AND peer = 'GTM' GROUP BY stream_seq HAVING COUNT(*) > 1",
        )
        .await;
    assert!(acks.is_empty(), "envelopes received twice: {acks:?}");
    // And no batch went out twice (two replicas racing): HND signed at most one ack per
    // envelope of the stream, and one more for the batch in flight when a replica died.
    let last = gtm.status().await.out_to("HND", DIR).unwrap().last_seq;
    let sent_acks: i64 = hnd
        .query_i64(
            "SELECT channel, COUNT(*) FROM fed_evidence \
             WHERE direction = 'ack_sent' AND peer = 'GTM' AND channel = 'directory' \
             GROUP BY channel",
        )
        .await
        .iter()
        .map(|(_, n)| *n)
        .sum();
    eprintln!("acks sent by HND for {last} envelopes: {sent_acks}");
    assert!(
        sent_acks <= i64::try_from(last).unwrap() + 1,
        "{sent_acks} acks for {last} envelopes: batches delivered twice"
    );
    c.assert_audit_intact().await;
}

// ---------------------------------------------------------------------------------------------
// The harness itself

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_sees_a_lagging_receiver_as_unequal_heads() {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    c.set_all(Mode::Refuse);
    gtm.publish().await;
    let ok = wait_until(Duration::from_secs(2), || async {
        heads_equal(&gtm.status().await, &hnd.status().await, DIR).is_ok()
    })
    .await;
    assert!(!ok, "heads cannot be equal while the link refuses");
    c.set_all(Mode::Pass);
    c.assert_delivered("GTM", &["HND"]).await;
}

// ---------------------------------------------------------------------------------------------
// Signing-key rotation

/// `(key id, lowest seq, highest seq)` of the directory envelopes `node` queued for `to`, from
/// the signed bodies in its outbox.
async fn outbox_key_ids(node: &super::cluster::PuenteNode, to: &str) -> Vec<(String, i64, i64)> {
    let key_id = if node.is_postgres() {
        "(body::json)->>'key_id'"
    } else {
        "json_extract(body, '$.key_id')"
    };
    let q = |agg: &str| {
        format!(
            "SELECT {key_id} AS k, {agg}(seq) FROM fed_outbox \
             WHERE destination = '{to}' AND channel = '{DIR}' GROUP BY k ORDER BY k"
        )
    };
    let lows = node.query_i64(&q("MIN")).await;
    let highs = node.query_i64(&q("MAX")).await;
    lows.into_iter()
        .zip(highs)
        .map(|((k, lo), (_, hi))| (k, lo, hi))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_rotated_mid_stream_keeps_every_envelope_valid() {
    let c = pair().await;
    let (gtm, hnd) = (c.node("GTM"), c.node("HND"));
    let old_key = c.member_info["GTM"]["signing_keys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Delivered under the old key, then more left pending (HND down), signed with it too.
    gtm.publish_n(2).await;
    c.assert_delivered("GTM", &["HND"]).await;
    hnd.stop().await;
    gtm.publish_n(2).await;

    // GTM makes its next key; it cannot sign with it before the manifest lists it.
    let out = gtm.cli_ok(&["keys", "new-signing-key"]).await;
    assert!(
        out.stdout.contains("member-info"),
        "what to do next: {out:?}"
    );
    let refused = gtm.cli(&["keys", "activate-signing-key"]).await;
    assert_ne!(
        refused.code, 0,
        "activated before the manifest lists the key"
    );
    assert!(
        refused.stderr.contains("does not list key"),
        "a clear reason: {refused:?}"
    );
    let info = gtm.cli_ok(&["federation", "member-info"]).await;
    let member: serde_json::Value = serde_json::from_str(&info.stdout).unwrap();
    let keys = member["signing_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "current and next key: {member}");
    assert_eq!(keys[0]["id"], old_key.as_str());
    let new_key = keys[1]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);

    // The governance adds it; every node installs the manifest.
    let file = c.root.join("member-GTM-next.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&member).unwrap()).unwrap();
    let path = c
        .next_manifest(&["--add-member", &file.display().to_string()])
        .await;
    for n in &c.nodes {
        n.cli_ok(&["federation", "install-manifest", &path]).await;
    }

    // GTM activates it and restarts; HND comes back; more publications.
    let out = gtm.cli_ok(&["keys", "activate-signing-key"]).await;
    assert!(
        out.stdout.contains(&new_key) && out.stdout.contains("restart"),
        "{out:?}"
    );
    gtm.stop().await;
    gtm.start().await;
    hnd.start().await;
    gtm.publish_n(2).await;
    c.assert_delivered("GTM", &["HND"]).await;
    let (g, h) = (gtm.status().await, hnd.status().await);
    heads_equal(&g, &h, DIR).unwrap();

    // The envelopes before the rotation carry the old key id, those after it the new one.
    let by_key = outbox_key_ids(gtm, "HND").await;
    let old = by_key.iter().find(|(k, _, _)| *k == old_key);
    let new = by_key.iter().find(|(k, _, _)| *k == new_key);
    assert_eq!(by_key.len(), 2, "two key ids in GTM's outbox: {by_key:?}");
    let (Some(old), Some(new)) = (old, new) else {
        panic!("envelopes under {old_key} and {new_key}: {by_key:?}");
    };
    assert!(old.1 == 1 && old.2 >= 4, "{by_key:?}");
    assert!(new.1 > old.2 && new.2 - new.1 >= 1, "{by_key:?}");
    // Old checkpoints (old key) and new ones (new key) both verify.
    c.assert_audit_intact().await;
}
