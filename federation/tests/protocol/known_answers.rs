//! Known-answer tests: RFC 8785 (JCS) examples without floats, the JCS reference test data
//! without floats, and the RFC 8032 Ed25519 test vectors through `verify_strict`.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use puente_federation::canonical::{canonical_json, parse_strict, CanonicalError};
use puente_federation::identity::{verify_with, SignatureContext};

fn jcs_text(input: &str) -> String {
    let value = parse_strict(input.as_bytes()).unwrap();
    String::from_utf8(canonical_json(&value).unwrap()).unwrap()
}

/// RFC 8785 §3.2.3: members sorted by UTF-16 code units (the emoji, a surrogate pair
/// D83D DE00, sorts before U+FB33 although its code point is larger).
#[test]
fn rfc8785_sorting_example() {
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                    \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                    \"\u{1f600}\":\"Emoji: Grinning Face\",\
                    \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(jcs_text(input), expected);
}

/// RFC 8785 §3.2.2 without its `numbers` member (floats, which Puente refuses): string
/// escaping and literals.
#[test]
fn rfc8785_string_and_literals_example() {
    let input = r#"{
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected =
        "{\"literals\":[null,true,false],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(jcs_text(input), expected);
}

/// The same example with its numbers is refused: they are not integers.
#[test]
fn rfc8785_example_with_floats_is_refused() {
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "x",
        "literals": [null, true, false]
    }"#;
    assert!(matches!(
        parse_strict(input.as_bytes()),
        Err(CanonicalError::NotAnInteger(_))
    ));
    let value = serde_json::from_str::<serde_json::Value>(input).unwrap();
    assert!(matches!(
        canonical_json(&value),
        Err(CanonicalError::NotAnInteger(_))
    ));
}

/// RFC 8785 Appendix B: the integers among its number examples print as plain digits.
#[test]
fn rfc8785_integers() {
    for (input, expected) in [
        ("0", "0"),
        ("1", "1"),
        ("-1", "-1"),
        ("9007199254740991", "9007199254740991"),
        ("-9007199254740991", "-9007199254740991"),
        ("[1,22,333]", "[1,22,333]"),
    ] {
        assert_eq!(jcs_text(input), expected, "{input}");
    }
    for out_of_range in [
        "9007199254740992",
        "-9007199254740992",
        "18446744073709551615",
    ] {
        assert!(
            matches!(
                parse_strict(out_of_range.as_bytes()),
                Err(CanonicalError::OutOfRange(_))
            ),
            "{out_of_range}"
        );
    }
}

/// The JCS reference implementation's test data (floats removed from `structures`).
#[test]
fn jcs_reference_testdata() {
    let cases = [
        (
            r#"[56, {"d": true, "10": null, "1": [ ]}]"#,
            r#"[56,{"1":[],"10":null,"d":true}]"#.to_owned(),
        ),
        (
            r#"{"peach": "This sorting order", "péché": "is wrong according to French",
                "pêche": "but canonicalization MUST", "sin": "ignore locale"}"#,
            r#"{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}"#
                .to_owned(),
        ),
        (
            r#"{"1": {"f": {"f": "hi","F": 5} ,"\n": 56}, "10": { }, "": "empty", "a": { },
                "111": [ {"e": "yes","E": "no" } ], "A": { }}"#,
            r#"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}"#
                .to_owned(),
        ),
        // No Unicode normalisation: A + combining ring stays two code points.
        (
            r#"{"Unnormalized Unicode":"A\u030a"}"#,
            "{\"Unnormalized Unicode\":\"A\u{30a}\"}".to_owned(),
        ),
        (
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\u000a": "Newline",
                "1": "One", "\u0080": "Control\u007f", "\ud83d\ude02": "Smiley",
                "\u00f6": "Latin Small Letter O With Diaeresis",
                "\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}"#,
            "{\"\\n\":\"Newline\",\"\\r\":\"Carriage Return\",\"1\":\"One\",\
             \"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7f}\",\
             \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
             \"\u{1f602}\":\"Smiley\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
                .to_owned(),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(jcs_text(input), expected, "{input}");
    }
}

/// Every control character is escaped, with the short forms where JCS has them.
#[test]
fn jcs_escapes_controls() {
    let all: String = (0u8..0x20).map(char::from).collect();
    let out = String::from_utf8(canonical_json(&serde_json::json!(all)).unwrap()).unwrap();
    assert_eq!(
        out,
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
         \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\
         \\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""
    );
}

struct Rfc8032 {
    secret: &'static str,
    public: &'static str,
    message: &'static str,
    signature: &'static str,
}

/// RFC 8032 §7.1, tests 1, 2, 3 and "SHA(abc)".
const RFC8032: [Rfc8032; 4] = [
    Rfc8032 {
        secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    },
    Rfc8032 {
        secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    },
    Rfc8032 {
        secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        message: "af82",
        signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    },
    Rfc8032 {
        secret: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        public: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    },
];

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[test]
fn rfc8032_vectors_sign_and_verify_strict() {
    for (i, v) in RFC8032.iter().enumerate() {
        let sk = SigningKey::from_bytes(&unhex::<32>(v.secret));
        let pk = sk.verifying_key();
        assert_eq!(hex::encode(pk.as_bytes()), v.public, "test {i}: public key");
        let msg = hex::decode(v.message).unwrap();
        let sig = sk.sign(&msg);
        assert_eq!(
            hex::encode(sig.to_bytes()),
            v.signature,
            "test {i}: signature"
        );
        let given = Signature::from_bytes(&unhex::<64>(v.signature));
        pk.verify_strict(&msg, &given).unwrap();
        let mut other = msg.clone();
        other.push(0);
        assert!(pk.verify_strict(&other, &given).is_err(), "test {i}");
    }
}

/// `verify_strict` refuses what plain `verify` lets through: a small-order public key (here
/// the identity point) with the signature (R = identity, s = 0) "verifies" any message
/// under the lax rule. Puente's verification path refuses it.
#[test]
fn verify_strict_refuses_weak_keys() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).unwrap();
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let sig = Signature::from_bytes(&sig);
    assert!(weak.verify_strict(b"anything", &sig).is_err());
    use base64::Engine as _;
    let sig_b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_bytes());
    assert!(verify_with(&weak, SignatureContext::Envelope, b"anything", &sig_b64).is_err());
}

/// The context prefixes, as specified.
#[test]
fn signature_context_prefixes() {
    for (ctx, prefix) in [
        (SignatureContext::Envelope, "puente/1 envelope\n"),
        (SignatureContext::Ack, "puente/1 ack\n"),
        (SignatureContext::Manifest, "puente/1 manifest\n"),
        (SignatureContext::KeyDocument, "puente/1 key\n"),
        (
            SignatureContext::AuditCheckpoint,
            "puente/1 audit-checkpoint\n",
        ),
        (SignatureContext::EvidenceSeal, "puente/1 evidence-seal\n"),
    ] {
        assert_eq!(ctx.prefix(), prefix.as_bytes());
    }
}
