//! The decision on banners written for these tests, as the collector would report them
//! (collected facts), in the eight bundled languages and the usual layouts: bottom bar,
//! modal, corner box, inside a frame, inside a shadow root; and the vocabulary's checks.

use super::decide::Path;
use super::*;
use std::path::Path as FsPath;

fn words() -> BannerWords {
    BannerWords::bundled().expect("data/banner-words.toml is valid")
}

fn btn(i: u32, text: &str) -> Control {
    Control {
        path: vec![vec![0, 1, 9, i]],
        element: format!("button#b{i}"),
        tag: "button".into(),
        text: text.into(),
        ..Control::default()
    }
}

fn link(i: u32, text: &str) -> Control {
    Control {
        tag: "a".into(),
        element: format!("a#l{i}"),
        ..btn(i, text)
    }
}

fn toggle(i: u32, text: &str, on: bool, disabled: bool) -> Control {
    Control {
        tag: "input".into(),
        input_type: "checkbox".into(),
        element: format!("input#t{i}"),
        checked: Some(on),
        disabled,
        ..btn(i, text)
    }
}

fn path(i: u32) -> Path {
    vec![vec![0, 1, i]]
}

/// A candidate: `layout` is `bar` / `corner` (fixed), `modal` (role dialog, not fixed),
/// `frame` (a frame's body, fixed through the frame), `shadow` (a fixed shadow host).
fn banner(i: u32, layout: &str, text: &str, controls: Vec<Control>) -> Candidate {
    let (position, role, modal, within, rect) = match layout {
        "bar" => ("fixed", "", false, vec![], (0.0, 600.0, 1280.0, 120.0)),
        "corner" => ("fixed", "", false, vec![], (900.0, 500.0, 360.0, 220.0)),
        "modal" => (
            "static",
            "dialog",
            true,
            vec![],
            (340.0, 160.0, 600.0, 400.0),
        ),
        "frame" => (
            "fixed",
            "",
            false,
            vec!["iframe#cmp".to_string()],
            (0.0, 520.0, 1280.0, 200.0),
        ),
        "shadow" => (
            "fixed",
            "",
            false,
            vec!["shadow root of cmp-banner".to_string()],
            (0.0, 0.0, 1280.0, 150.0),
        ),
        other => panic!("layout {other}"),
    };
    Candidate {
        path: path(i),
        element: format!("div#c{i}"),
        within,
        role: role.into(),
        modal,
        position: position.into(),
        z: 1000,
        rect: decide::Rect {
            x: rect.0,
            y: rect.1,
            w: rect.2,
            h: rect.3,
        },
        text: text.into(),
        controls,
    }
}

fn facts(candidates: Vec<Candidate>) -> Facts {
    Facts {
        viewport: decide::Size {
            w: 1280.0,
            h: 720.0,
        },
        candidates,
    }
}

/// The label of the button chosen on the first layer, and the dialog's confidence.
fn chosen(f: &Facts, want: Want) -> (String, &'static str) {
    match first_layer(f, &words(), want) {
        FirstLayer::Click(d, c) => {
            assert!(combined(&d, &c) >= THRESHOLD);
            (c.text, "click")
        }
        FirstLayer::OpenSettings(_, c) => (c.text, "settings"),
        FirstLayer::NoReject(_, why) => (why, "no-reject"),
        FirstLayer::NotFound(why) => (why, "not-found"),
    }
}

use super::decide::combined;

#[test]
fn english_bottom_bar() {
    let f = facts(vec![banner(
        3,
        "bar",
        "We use cookies to improve your experience and to show personalised advertising with our partners. Accept all Reject all Cookie settings",
        vec![btn(0, "Accept all"), btn(1, "Reject all"), btn(2, "Cookie settings")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("Accept all".into(), "click"));
    assert_eq!(chosen(&f, Want::Reject), ("Reject all".into(), "click"));
    let FirstLayer::Click(d, c) = first_layer(&f, &words(), Want::Reject) else {
        panic!()
    };
    assert_eq!(c.language, "en");
    assert_eq!(c.phrase, "reject all");
    assert_eq!(c.confidence, 100);
    assert!(d.words.contains(&"cookie".to_string()), "{:?}", d.words);
    assert_eq!(d.element, "div#c3 (fixed)");
}

#[test]
fn german_modal_with_reject_on_the_second_layer() {
    let first = facts(vec![banner(
        2,
        "modal",
        "Wir verwenden Cookies und ähnliche Technologien. Mit „Alle akzeptieren“ willigen Sie ein. Details in der Datenschutzerklärung. Alle akzeptieren Einstellungen",
        vec![btn(0, "Alle akzeptieren"), btn(1, "Einstellungen"), link(2, "Datenschutzerklärung")],
    )]);
    assert_eq!(
        chosen(&first, Want::Accept),
        ("Alle akzeptieren".into(), "click")
    );
    assert_eq!(
        chosen(&first, Want::Reject),
        ("Einstellungen".into(), "settings")
    );
    let second = facts(vec![banner(
        4,
        "modal",
        "Cookie-Einstellungen Notwendig Statistik Marketing Auswahl speichern Alle akzeptieren",
        vec![
            toggle(0, "Notwendig", true, true),
            toggle(1, "Statistik", true, false),
            toggle(2, "Marketing", false, false),
            toggle(3, "Externe Medien", true, false),
            btn(4, "Auswahl speichern"),
            btn(5, "Alle akzeptieren"),
        ],
    )]);
    let SecondLayer::Save { toggles, save, .. } = second_layer(&second, &words()) else {
        panic!("no save")
    };
    assert_eq!(save.text, "Auswahl speichern");
    let names: Vec<&str> = toggles.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        names,
        ["Statistik", "Externe Medien"],
        "necessary (disabled) and off toggles stay"
    );
}

#[test]
fn french_corner_box_with_continue_without_accepting() {
    let f = facts(vec![banner(
        5,
        "corner",
        "Ce site utilise des cookies pour mesurer l'audience. Vous pouvez donner votre consentement. Tout accepter Continuer sans accepter",
        vec![btn(0, "Tout accepter"), link(1, "Continuer sans accepter →")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("Tout accepter".into(), "click"));
    let FirstLayer::Click(_, c) = first_layer(&f, &words(), Want::Reject) else {
        panic!()
    };
    assert_eq!(
        (c.text.as_str(), c.language.as_str()),
        ("Continuer sans accepter →", "fr")
    );
    // A link, not equal to the phrase: 100 - 10.
    assert_eq!(c.confidence, 90);
}

#[test]
fn spanish_banner_in_a_frame() {
    let f = facts(vec![banner(
        1,
        "frame",
        "Utilizamos cookies propias y de terceros. Consulte nuestra política de privacidad. Aceptar todas Rechazar todas Configurar",
        vec![btn(0, "ACEPTAR TODAS"), btn(1, "RECHAZAR TODAS"), btn(2, "Configurar")],
    )]);
    let FirstLayer::Click(d, c) = first_layer(&f, &words(), Want::Reject) else {
        panic!()
    };
    assert_eq!(c.text, "RECHAZAR TODAS");
    assert_eq!(d.element, "div#c1 (fixed, in iframe#cmp)");
    assert_eq!(chosen(&f, Want::Accept), ("ACEPTAR TODAS".into(), "click"));
}

#[test]
fn italian_banner_in_a_shadow_root() {
    let f = facts(vec![banner(
        7,
        "shadow",
        "Questo sito utilizza cookie tecnici e, previo tuo consenso, cookie di profilazione. Accetta tutti Rifiuta Personalizza",
        vec![btn(0, "Accetta tutti"), btn(1, "Rifiuta"), btn(2, "Personalizza")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("Accetta tutti".into(), "click"));
    assert_eq!(chosen(&f, Want::Reject), ("Rifiuta".into(), "click"));
    let FirstLayer::Click(d, _) = first_layer(&f, &words(), Want::Accept) else {
        panic!()
    };
    assert!(
        d.element.contains("shadow root of cmp-banner"),
        "{}",
        d.element
    );
}

#[test]
fn dutch_only_necessary_is_a_reject() {
    let f = facts(vec![banner(
        2,
        "bar",
        "Wij gebruiken cookies om de website te verbeteren. Lees ons privacy beleid. Alles accepteren Alleen noodzakelijke cookies",
        vec![btn(0, "Alles accepteren"), btn(1, "Alleen noodzakelijke cookies")],
    )]);
    assert_eq!(
        chosen(&f, Want::Reject),
        ("Alleen noodzakelijke cookies".into(), "click")
    );
    assert_eq!(
        chosen(&f, Want::Accept),
        ("Alles accepteren".into(), "click")
    );
}

#[test]
fn polish_modal() {
    let f = facts(vec![banner(
        9,
        "modal",
        "Używamy plików cookie. Szczegóły w polityce prywatności. Akceptuję Odrzuć wszystkie Ustawienia",
        vec![btn(0, "Akceptuję"), btn(1, "Odrzuć wszystkie"), btn(2, "Ustawienia")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("Akceptuję".into(), "click"));
    let FirstLayer::Click(_, c) = first_layer(&f, &words(), Want::Reject) else {
        panic!()
    };
    assert_eq!(
        (c.text.as_str(), c.language.as_str()),
        ("Odrzuć wszystkie", "pl")
    );
}

#[test]
fn portuguese_bar() {
    let f = facts(vec![banner(
        4,
        "bar",
        "Utilizamos cookies para melhorar a sua experiência, de acordo com a nossa política de privacidade. Aceitar todos Rejeitar todos",
        vec![btn(0, "Aceitar todos"), btn(1, "Rejeitar todos")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("Aceitar todos".into(), "click"));
    assert_eq!(chosen(&f, Want::Reject), ("Rejeitar todos".into(), "click"));
}

#[test]
fn accept_only_necessary_is_a_reject_by_the_longest_phrase() {
    let f = facts(vec![banner(
        1,
        "bar",
        "Wir nutzen Cookies. Ihre Einwilligung ist freiwillig. Nur notwendige akzeptieren Alle akzeptieren",
        vec![btn(0, "Nur notwendige akzeptieren"), btn(1, "Alle akzeptieren")],
    )]);
    assert_eq!(
        chosen(&f, Want::Reject),
        ("Nur notwendige akzeptieren".into(), "click")
    );
    assert_eq!(
        chosen(&f, Want::Accept),
        ("Alle akzeptieren".into(), "click")
    );
    let w = words();
    assert_eq!(
        classify(&btn(0, "Accept selection"), &w).map(|c| c.kind),
        Some(Kind::Save)
    );
    assert_eq!(
        classify(&btn(0, "Accept only necessary"), &w).map(|c| c.kind),
        Some(Kind::Reject)
    );
    // "ok" is a word, not a part of "cookies".
    assert_eq!(classify(&btn(0, "Cookies"), &w), None);
}

#[test]
fn no_reject_anywhere_says_so() {
    let f = facts(vec![banner(
        6,
        "bar",
        "This website uses cookies. By continuing to browse you agree to our use of cookies. OK, got it",
        vec![btn(0, "OK, got it"), link(1, "More info")],
    )]);
    assert_eq!(chosen(&f, Want::Accept), ("OK, got it".into(), "click"));
    let (why, what) = chosen(&f, Want::Reject);
    assert_eq!(what, "no-reject");
    assert!(
        why.contains("no reject button and no settings button"),
        "{why}"
    );
    assert!(why.contains("\"OK, got it\" (accept)"), "{why}");
}

#[test]
fn what_is_not_a_consent_dialog_is_left_alone() {
    let f = facts(vec![
        // A sticky header: one consent word (a link to the privacy policy), no choice.
        banner(
            1,
            "bar",
            "Home Shop Blog Privacy policy",
            vec![link(0, "Home"), link(1, "Privacy policy")],
        ),
        // A chat widget: buttons, no consent words.
        banner(
            2,
            "corner",
            "Questions? Chat with us. Start chat",
            vec![btn(0, "Start chat"), btn(1, "OK")],
        ),
    ]);
    let (why, what) = chosen(&f, Want::Accept);
    assert_eq!(what, "not-found");
    assert!(
        why.starts_with("heuristic: no consent dialog found (2 fixed"),
        "{why}"
    );
    assert_eq!(chosen(&facts(vec![]), Want::Reject).1, "not-found");
}

#[test]
fn unsure_is_not_acted_on() {
    // A newsletter modal, not fixed, one consent word: 45 + 10 (dialog) = 55 < 60.
    let f = facts(vec![Candidate {
        z: 0,
        ..banner(
            1,
            "modal",
            "Get our newsletter. We respect your privacy. Yes No thanks",
            vec![btn(0, "Yes"), btn(1, "No thanks")],
        )
    }]);
    for want in [Want::Accept, Want::Reject] {
        let (why, what) = chosen(&f, want);
        assert_eq!(what, "not-found", "{why}");
        assert!(why.contains("below 60%"), "{why}");
    }
}

#[test]
fn the_banner_is_chosen_over_a_wrapper_around_it() {
    let inner_text =
        "We use cookies and similar technologies with our partners. Accept all Reject all";
    let outer = banner(
        1,
        "bar",
        &format!("{inner_text} and the rest of an overlay"),
        vec![btn(0, "Accept all"), btn(1, "Reject all")],
    );
    let inner = banner(
        2,
        "bar",
        inner_text,
        vec![btn(0, "Accept all"), btn(1, "Reject all")],
    );
    let FirstLayer::Click(d, _) = first_layer(&facts(vec![outer, inner]), &words(), Want::Accept)
    else {
        panic!()
    };
    assert_eq!(d.index, 1);
}

#[test]
fn collected_facts_decode_from_the_collectors_json() {
    let json = serde_json::json!({
        "viewport": {"w": 1280, "h": 720},
        "candidates": [{
            "path": [[0, 1, 4], [0]], "element": "body", "within": ["iframe#cmp"],
            "role": "", "modal": false, "position": "fixed", "z": 10,
            "rect": {"x": 0, "y": 600, "w": 1280, "h": 120},
            "text": "Wir verwenden Cookies. Alle ablehnen Alle akzeptieren",
            "controls": [
                {"path": [[0, 1, 4], [0, 1, 2]], "element": "button#no", "tag": "button", "role": "",
                 "type": "", "text": "Alle ablehnen", "checked": null, "disabled": false},
                {"path": [[0, 1, 4], [0, 1, 3]], "element": "button#yes", "tag": "button", "role": "",
                 "type": "", "text": "Alle akzeptieren", "checked": null, "disabled": false}
            ]
        }]
    });
    let f: Facts = serde_json::from_value(json).expect("decodes");
    let FirstLayer::Click(_, c) = first_layer(&f, &words(), Want::Reject) else {
        panic!()
    };
    assert_eq!(c.path, vec![vec![0, 1, 4], vec![0, 1, 2]]);
}

#[test]
fn every_bundled_language_has_every_list() {
    let w = words();
    assert_eq!(
        w.languages(),
        ["en", "de", "fr", "es", "it", "nl", "pl", "pt"]
    );
    for lang in w.languages() {
        for kind in Kind::ALL {
            assert!(
                w.phrases
                    .iter()
                    .any(|p| p.language == lang && p.kind == kind),
                "[{lang}] has no {} phrase",
                kind.as_str()
            );
        }
    }
}

#[test]
fn a_user_file_extends_the_words_and_bad_ones_are_named_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("words.toml");
    std::fs::write(&good, "[sv]\ndialog = [\"kakor\"]\naccept = [\"godkänn alla\"]\nreject = [\"neka alla\"]\n[de]\naccept = [\"passt schon\"]\n").unwrap();
    let w = BannerWords::with_file(&good).expect("valid");
    assert!(w.languages().contains(&"sv"));
    let f = facts(vec![banner(
        1,
        "bar",
        "Vi använder kakor. Godkänn alla Neka alla",
        vec![btn(0, "Godkänn alla"), btn(1, "Neka alla")],
    )]);
    let FirstLayer::Click(_, c) = first_layer(&f, &w, Want::Reject) else {
        panic!()
    };
    assert_eq!(c.text, "Neka alla");
    assert_eq!(
        classify(&btn(0, "Passt schon"), &w).map(|c| c.kind),
        Some(Kind::Accept)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[en]\naccept = [\"Accept Everything\"]\nreject = [\"nope\", \"nope\"]\nsave = [\"reject all\"]\nbogus = [\"x\"]\n[English]\naccept = [\"yes\"]\n",
    )
    .unwrap();
    let diags = BannerWords::with_file(&bad).expect_err("invalid");
    let lines: Vec<(usize, &str)> = diags.iter().map(|d| (d.line, d.message.as_str())).collect();
    let has = |line: usize, part: &str| lines.iter().any(|(l, m)| *l == line && m.contains(part));
    assert!(has(2, "not lower case"), "{lines:?}");
    assert!(has(3, "listed twice"), "{lines:?}");
    assert!(has(4, "also a `reject` phrase"), "{lines:?}");
    assert!(has(5, "unknown key `bogus`"), "{lines:?}");
    assert!(has(6, "not a language code"), "{lines:?}");
    assert!(diags.iter().all(|d| d.file == bad), "{diags:?}");
    assert!(BannerWords::with_file(FsPath::new("/nonexistent/words.toml")).is_err());
}

#[test]
fn facts_a_hostile_page_inflated_are_cut_to_the_collectors_bounds_and_still_decided() {
    let accept = "Accept all ".repeat(2_000);
    let mut many: Vec<Control> = (0..500).map(|i| btn(i + 2, &accept)).collect();
    many.insert(0, btn(0, "Accept all"));
    many.insert(1, btn(1, "Reject all"));
    let mut c = banner(1, "bar", "We use cookies. Accept all Reject all", many);
    c.path = vec![vec![1; 100_000]; 3];
    let mut candidates = vec![c, banner(2, "bar", &"Sale! ".repeat(5_000), vec![])];
    candidates.extend((0..1_000).map(|i| banner(i + 3, "bar", "Sale", vec![])));
    let f = facts(candidates).bounded();
    assert_eq!(f.candidates.len(), 80);
    assert!(f.candidates[1].text.chars().count() <= 6000);
    let c = &f.candidates[0];
    assert_eq!(c.controls.len(), 120);
    assert!(c.controls.iter().all(|k| k.text.chars().count() <= 200));
    assert!(c.path.iter().map(Vec::len).sum::<usize>() <= 4096);
    // The banner is still recognised and its reject button found.
    let FirstLayer::Click(_, r) = first_layer(&f, &words(), Want::Reject) else {
        panic!(
            "no reject chosen: {:?}",
            first_layer(&f, &words(), Want::Reject)
        )
    };
    assert_eq!(r.text, "Reject all");
}
