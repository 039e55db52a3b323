"""The lab's controlled experiments (smi.lab.experiments): the shared kit, capacity and diversity at a
reduced size, their results folders and the ``smi lab experiment`` command."""

from __future__ import annotations

import itertools
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from smi.errors import ParameterValueError, SmiError
from smi.lab.experiments import EXPERIMENTS, capacity, diversity, forgetting, holdout, kit, results

# ---------------------------------------------------------------- the kit


def test_world_token_ids_are_disjoint_and_fill_the_vocabulary():
    world = kit.World(syllables=5, relations=3, values=4, phrasing_tokens=2)
    people = np.arange(25)
    names = world.name_tokens(people)
    phrasing = world.phrasing_token(np.arange(3)[:, None], np.arange(2)[None, :]).ravel()
    values = world.value_token(np.arange(3)[:, None], np.arange(4)[None, :]).ravel()
    everything = np.concatenate([np.unique(names), phrasing, values])
    assert len(set(everything)) == len(everything) == world.vocabulary - 1  # all but the padding token
    assert everything.min() == 1 and everything.max() == world.vocabulary - 1
    assert len({tuple(pair) for pair in names}) == 25  # each person number its own name


def test_statements_are_packed_with_loss_on_the_values_only():
    world = kit.World(syllables=4, relations=2, values=3)
    tokens = kit.statements(world, [0, 5, 7], [0, 1, 1], np.zeros((3, 1), int), [2, 0, 1])
    assert tokens.shape == (3, 4)
    ids, labels = kit.pack_rows(tokens, per_row=2)
    assert ids.shape == labels.shape == (2, 8)
    assert list(ids[0]) == list(tokens[0]) + list(tokens[1]) and list(ids[1][:4]) == list(tokens[2])
    assert (ids[1][4:] == kit.PAD).all()
    kept = labels[labels != -100]
    assert sorted(kept) == sorted(tokens[:, -1])


def test_draw_people_refuses_more_people_than_names():
    with pytest.raises(SmiError, match="at most 16"):
        kit.World(syllables=4, relations=1, values=2).draw_people(17, np.random.default_rng(0))


def test_seed_interval_is_the_student_t_interval():
    mean, low, high = kit.seed_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) · s / √n with s = 1
    assert mean == 2.0 and low == pytest.approx(2 - half) and high == pytest.approx(2 + half)
    assert math.isnan(kit.seed_interval([1.0])[1])


@pytest.mark.parametrize("count", [2, 3, 10, 101])
def test_derangement_moves_everyone(count):
    shuffled = kit.derangement(count, np.random.default_rng(count))
    assert sorted(shuffled) == list(range(count)) and (shuffled != np.arange(count)).all()


def test_verdicts_need_the_whole_interval():
    inside, straddling, outside = (
        {"low": 0.6, "high": 0.9},
        {"low": 0.4, "high": 0.9},
        {"low": 0.1, "high": 0.3},
    )
    band = (0.5, 2.5)
    assert [kit.verdict_band(e, band) for e in (inside, straddling, outside)] == ["holds", "undecided", "fails"]
    above, below = (0.5, math.inf), (-math.inf, 0.5)
    assert kit.verdict_band(inside, above) == "holds" and kit.verdict_band(outside, above) == "fails"
    assert kit.verdict_band(outside, below) == "holds" and kit.verdict_band(straddling, below) == "undecided"
    assert kit.verdict_band({"low": 0.0, "high": 0.0}, (0.0, math.inf)) == "undecided"  # touching the bound


def test_a_job_file_is_reused_only_with_its_key_and_intact(tmp_path):
    from smi.files import write_json
    from smi.hashing import json_sha256

    rows = [{"seed": 0, "bits": 1.5}]
    key = kit.job_key({"seed": 0}, {"seeds": 3, "values": 8}, "code")
    path = tmp_path / f"{key}.json"
    write_json({"key": key, "rows": rows, "rows_sha256": json_sha256(rows)}, path)
    assert kit.read_job(path, key) == rows
    assert kit.read_job(path, kit.job_key({"seed": 0}, {"seeds": 3, "values": 9}, "code")) is None
    assert kit.read_job(path, kit.job_key({"seed": 0}, {"seeds": 3, "values": 8}, "other code")) is None
    # the number of seeds does not change a job
    assert kit.job_key({"seed": 0}, {"seeds": 5, "seed": 2, "values": 8}, "code") == key
    record = json.loads(path.read_text())
    record["rows"][0]["bits"] = 2.5
    path.write_text(json.dumps(record))
    assert kit.read_job(path, key) is None
    path.write_text("{not json")
    assert kit.read_job(path, key) is None


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: capacity.CapacitySettings(widths=(10,)), "widths"),
        (lambda: capacity.CapacitySettings(exposures=0), "exposures"),
        (lambda: capacity.CapacitySettings(seeds=21), "seeds"),
        (lambda: diversity.DiversitySettings(statements=4), "statements"),
        (lambda: diversity.DiversitySettings(shares=(0.5, 1.0)), "shares"),
        (lambda: diversity.DiversitySettings(people=5000), "people"),
        (lambda: forgetting.ForgettingSettings(batch_sizes=(32, 8)), "batch_sizes"),
        (lambda: forgetting.ForgettingSettings(start=1010), "start"),
        (lambda: forgetting.ForgettingSettings(facts_per_condition=200), "facts_per_condition"),
        (lambda: forgetting.ForgettingSettings(background_people=4090), "background_people"),
        (lambda: forgetting.ForgettingSettings(hidden=30), "hidden"),
        (lambda: holdout.HoldoutSettings(seeds=1), "seeds"),
        (lambda: holdout.HoldoutSettings(sizes=("xs", "s")), "sizes"),
    ],
)
def test_settings_refuse_bad_values_naming_the_parameter(make, parameter):
    with pytest.raises(ParameterValueError) as error:
        make()
    assert error.value.parameter == parameter


# ---------------------------------------------------------------- capacity


def test_capacity_people_follow_the_two_bits_per_parameter_point():
    settings = capacity.CapacitySettings()
    # 4 attributes of 128 values: 28 bits a person; 2 bits per parameter of 3,500 parameters = 250 people
    assert capacity.people_for(3500, 1.0, settings) == 250
    assert capacity.people_for(3500, 10.0, settings) == 2500


def built_capacity_table(stored) -> pd.DataFrame:
    """A capacity table of 3 seeds, 3 widths and 3 multiples whose net bits are ``stored(people, params, seed)``."""
    rows = []
    for seed in range(3):
        for hidden, params in ((8, 600), (12, 1300), (20, 3500)):
            for multiple in (1.0, 2.0, 4.0):
                people = 100 * multiple * params / 600
                bits = stored(people, params, seed)
                rows.append(
                    {
                        "seed": seed,
                        "hidden": hidden,
                        "multiple": multiple,
                        "people": people,
                        "non_embedding": params,
                        "parameters": 10 * params,
                        "bits": bits + 5.0,
                        "control_bits": 5.0,
                    }
                )
    return capacity.tidy(rows)


def test_capacity_summary_finds_saturation_and_the_slope_on_a_built_table():
    saturated = built_capacity_table(lambda people, params, seed: min(people * 28, 1.5 * params) * (1 + 0.01 * seed))
    summary = capacity.summarise(saturated)
    assert summary["per_non_embedding"]["mean"] == pytest.approx(1.5 * 1.01, rel=1e-6)
    assert summary["per_parameter"]["mean"] == pytest.approx(0.15 * 1.01, rel=1e-6)
    assert summary["slope"]["mean"] == pytest.approx(1.0, abs=1e-9)
    assert summary["largest_elasticity"]["mean"] == pytest.approx(0.0, abs=1e-9)
    assert summary["verdicts"] == {"saturates": "holds", "capacity_in_band": "holds", "slope_in_band": "holds"}
    # a lookup: bits grow with the people whatever the width
    lookup = capacity.summarise(built_capacity_table(lambda people, params, seed: people * (3 + 0.1 * seed)))
    assert lookup["largest_elasticity"]["mean"] == pytest.approx(1.0, abs=1e-9)
    assert lookup["verdicts"]["saturates"] == "fails"


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Both experiments at the tests' size through the command line, with their exports."""
    from smi.cli import main

    root = tmp_path_factory.mktemp("experiments")
    for name in EXPERIMENTS:
        code = main(
            [
                "lab",
                "experiment",
                name,
                "--quick",
                "--out",
                str(root / name),
                "--export",
                str(root / f"{name}-results"),
                "--no-progress",
            ]
        )
        assert code == 0
    return root


@pytest.mark.slow
def test_capacity_quick_run_stores_more_in_the_wider_model(quick_runs):
    table = pd.read_csv(quick_runs / "capacity" / "table.csv")
    top = table[table["multiple"] == table["multiple"].max()].groupby("hidden")["net_bits"].mean()
    assert top.index.tolist() == [8, 16] and top[16] > top[8] > 0
    assert (table["bits"] <= table["data_bits"] + 1e-6).all()  # never more than the facts hold
    assert (table.groupby("hidden")["non_embedding"].nunique() == 1).all()  # one network shape per width
    summary = json.loads((quick_runs / "capacity" / "summary.json").read_text())
    assert set(summary["verdicts"]) == set(capacity.CLAIMS)
    assert (quick_runs / "capacity" / "lab_experiment_capacity.png").stat().st_size > 0


@pytest.mark.slow
def test_diversity_quick_run_learns_the_used_phrasing_above_chance(quick_runs):
    table = pd.read_csv(quick_runs / "diversity" / "table.csv")
    assert set(table["probe"]) == set(diversity.PROBES) and len(table) == 2 * 2 * 3
    used = table[table["probe"] == "used"]
    assert (used["accuracy"] > used["chance"] + 0.05).all()
    shown = diversity.share_table(json.loads((quick_runs / "diversity" / "summary.json").read_text()))
    assert list(shown["diverse share of the others"]) == ["0%", "100%"]


def test_diversity_corpora_differ_only_in_the_other_peoples_phrasings():
    settings = diversity.quick_settings()
    drawn = diversity.draw_world(0, settings)
    plain, diverse = diversity.corpus(drawn, 0.0, settings), diversity.corpus(drawn, 1.0, settings)
    assert plain.shape == diverse.shape  # k statements per fact either way
    n = settings.people * settings.attributes * settings.statements
    assert (plain[:n] == diverse[:n]).all()  # the test people's statements are the same
    phrasings = lambda tokens: {tuple(row) for row in tokens[n:, 2:4]}
    assert len(phrasings(diverse)) == settings.attributes * len(diversity.USED)
    never = settings.world().phrasing_token(0, np.array(diversity.NEVER))
    assert tuple(never) not in phrasings(diverse) | phrasings(plain)


@pytest.mark.slow
def test_a_rerun_reuses_every_job_and_writes_the_same_table(quick_runs, run_cli):
    before = (quick_runs / "diversity" / "table.csv").read_bytes()
    code, _out, err = run_cli("lab", "experiment", "diversity", "--quick", "--out", quick_runs / "diversity")
    assert code == 0 and "4 of 4 jobs reused" in err
    assert (quick_runs / "diversity" / "table.csv").read_bytes() == before


# ---------------------------------------------------------------- forgetting


def test_each_condition_is_shown_its_exposures_at_its_spacing():
    settings = forgetting.ForgettingSettings()
    schedule = forgetting.exposure_steps(settings)
    assert len(schedule) == 12
    firsts = sorted(steps[0] for steps in schedule.values())
    assert firsts == [settings.start + forgetting.STAGGER * i for i in range(12)]
    for (count, spacing), steps in schedule.items():
        assert len(steps) == count and all(b - a == spacing for a, b in itertools.pairwise(steps))
    total = forgetting.total_steps(settings)
    assert all(total - steps[-1] > settings.retention_steps for steps in schedule.values())


@pytest.mark.slow
def test_a_run_puts_each_injected_fact_in_exactly_its_batches(monkeypatch):
    """The facts in each batch the training sees, counted: each condition's facts at its steps only."""
    settings = forgetting.quick_settings()
    seen: dict[int, int] = {}
    injected = forgetting._facts(0, settings)["injected"]
    names = {tuple(row[:2]) for row in injected}
    original = kit.train_step

    def counting_step(network, optimizer, ids, labels, rate):
        rows = ids.reshape(-1, 4)
        step = len(seen)
        seen[step] = sum(tuple(row[:2]) in names for row in rows)
        return original(network, optimizer, ids, labels, rate)

    monkeypatch.setattr(kit, "train_step", counting_step)
    forgetting.run_job({"seed": 0, "batch_rows": 4}, settings)
    expected: dict[int, int] = {}
    for steps in forgetting.exposure_steps(settings).values():
        for step in steps:
            expected[step] = expected.get(step, 0) + settings.facts_per_condition
    assert {step: count for step, count in seen.items() if count} == expected
    assert len(seen) == forgetting.total_steps(settings)


@pytest.mark.parametrize("shape", ["power", "exponential"])
def test_the_fits_recover_the_curve_they_are_given(shape):
    tau = np.arange(20, 3001, 20, dtype=float)
    rng = np.random.default_rng(1)
    clean = 0.9 * (tau / 20) ** -0.4 if shape == "power" else 0.9 * np.exp(-tau / 600)
    fit = forgetting.fit_retention(tau, clean + rng.normal(0, 0.01, len(tau)))
    if shape == "power":
        assert fit["exponent"] == pytest.approx(0.4, abs=0.02) and fit["delta_aic"] > 10
    else:
        assert fit["scale"] == pytest.approx(600, rel=0.05) and fit["delta_aic"] < -10
    assert math.isnan(forgetting.fit_retention(tau[:3], clean[:3])["exponent"])


@pytest.mark.slow
def test_forgetting_quick_run_logs_every_condition_before_and_after_its_last_exposure(quick_runs):
    table = pd.read_csv(quick_runs / "forgetting" / "table.csv")
    settings = forgetting.quick_settings()
    per_job = table.groupby(["seed", "batch_rows"]).size()
    assert len(per_job) == 4 and per_job.nunique() == 1
    for (count, spacing), group in table.groupby(["exposures", "spacing"]):
        assert (group["since_last"] <= 0).any() and (group["since_last"] > 0).any()
        last = forgetting.exposure_steps(settings)[(count, spacing)][-1]
        assert ((group["step"] - group["since_last"]) == last).all()
    summary = json.loads((quick_runs / "forgetting" / "summary.json").read_text())
    assert set(summary["verdicts"]) == set(forgetting.CLAIMS)
    assert set(summary["batch_sizes"]) == {"4", "16"}


# ---------------------------------------------------------------- holdout


def _built_holdout_table(seeds: int = 3, facts: int = 300) -> pd.DataFrame:
    """A holdout table whose largest size answers by exposure and chance: acc = chance + (1 − chance)(1 − e^{−k/4}),
    with binomial noise over 3 prompts; ``pred_best`` is each fact's measured accuracy, the others a constant 0.5."""
    rng = np.random.default_rng(5)
    rows = []
    for seed in range(seeds):
        k = rng.choice([0, 2, 4, 8, 16], facts)
        prior = rng.uniform(0.05, 0.3, facts)
        for size, parameters, scale in (("xs", 10_000, 0.2), ("s", 40_000, 0.5), ("m", 160_000, 1.0)):
            p = prior + (1 - prior) * scale * (1 - np.exp(-k / 4))
            acc = rng.binomial(3, p) / 3
            frame = pd.DataFrame({"seed": seed, "size": size, "parameters": parameters, "idx": np.arange(facts)})
            frame = frame.assign(k=k, prior_chance=prior, acc=acc, trained_before_prediction=0.0)
            for name in holdout.PREDICTORS:
                frame[f"pred_{name}"] = (acc if name == "best" else 0.5) if size == "m" else np.nan
            rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_the_oracle_knows_exposure_and_chance_and_the_mean_claim_needs_the_band():
    table = _built_holdout_table()
    summary = holdout.summarise(table)
    assert summary["largest"] == "m" and summary["fitted_on"] == ["xs", "s"] and summary["facts"] == 300
    assert summary["r2"]["oracle"]["mean"] > 0.4  # cross-fitted on the other seeds, it finds the built response
    assert summary["r2"]["best"]["mean"] == pytest.approx(1.0)  # the measured accuracies themselves
    assert summary["r2"]["glm"]["high"] < 0.05 and summary["verdicts"]["counts_below_oracle"] == "holds"
    spread = table[table["size"] == "m"].groupby("seed")["acc"].mean().std(ddof=1)
    assert summary["band"] == pytest.approx([-2 * spread, 2 * spread]) and summary["predicted_before_training"]

    def verdict(shifts) -> str:
        shift = table["seed"].map(dict(enumerate(shifts)))
        return holdout.summarise(table.assign(pred_best=table["pred_best"] + shift))["verdicts"]["mean_within_two_sd"]

    assert verdict([1.5 * spread] * 3) == "holds" and verdict([-2.5 * spread] * 3) == "fails"
    assert verdict([-2.5 * spread, 0.0, 2.5 * spread]) == "undecided"  # right on average, too far apart per seed
    resumed = table.assign(trained_before_prediction=1.0)
    assert not holdout.summarise(resumed)["predicted_before_training"]


def test_a_prediction_is_read_only_with_its_key_and_its_csv_intact(tmp_path):
    from smi.files import write_json
    from smi.hashing import file_sha256

    path, record = holdout.prediction_paths(tmp_path, 3)
    assert holdout.read_prediction(tmp_path, 3, "k") is None  # nothing written yet
    path.parent.mkdir()
    path.write_text("idx,predicted\n0,0.5\n1,0.25\n")
    write_json({"key": "k", "csv_sha256": file_sha256(path)}, record)
    frame, found = holdout.read_prediction(tmp_path, 3, "k")
    assert frame["predicted"].tolist() == [0.5, 0.25] and found["key"] == "k"
    assert holdout.read_prediction(tmp_path, 3, "other key") is None
    path.write_text("idx,predicted\n0,0.5\n1,0.75\n")  # changed after its record
    assert holdout.read_prediction(tmp_path, 3, "k") is None
    record.write_text("{not json")
    assert holdout.read_prediction(tmp_path, 3, "k") is None


@pytest.mark.slow
def test_holdout_quick_run_predicts_the_largest_size_before_it_trains(quick_runs):
    from smi.lab import stages
    from smi.lab.resume import TRAIN_RECORD

    out = quick_runs / "holdout"
    table = pd.read_csv(out / "table.csv")
    assert list(table.drop_duplicates("size")["size"]) == ["xs", "s", "m"] and table["seed"].nunique() == 2
    predictions = [f"pred_{name}" for name in holdout.PREDICTORS]
    assert table.loc[table["size"] == "m", predictions].notna().all().all()
    assert table.loc[table["size"] != "m", predictions].isna().all().all()
    for index, seed in enumerate((0, 1)):
        record = json.loads((out / "predictions" / f"{seed}.json").read_text())
        assert record["largest_model_then"] is None and record["fitted_on"] == ["xs", "s"]
        trained = stages.seed_folder(out / "lab", index, seed) / "models" / "m" / TRAIN_RECORD
        assert record["made_at"] < trained.stat().st_mtime  # written before the largest model's training ended
    summary = json.loads((out / "summary.json").read_text())
    assert summary["predicted_before_training"] and set(summary["verdicts"]) == set(holdout.CLAIMS)
    assert list(holdout.predictor_table(summary)["predictor"]) == [*holdout.PREDICTORS, "oracle"]


@pytest.mark.slow
def test_a_holdout_rerun_keeps_its_prediction_and_says_when_it_had_to_predict_again(quick_runs, run_cli, tmp_path):
    out = tmp_path / "holdout"
    shutil.copytree(quick_runs / "holdout", out)
    table, first = (out / "table.csv").read_bytes(), (out / "predictions" / "0.json").read_text()
    code, _out, err = run_cli("lab", "experiment", "holdout", "--quick", "--out", out)
    assert code == 0 and err.count("(reused)") == 6
    assert (out / "table.csv").read_bytes() == table and (out / "predictions" / "0.json").read_text() == first
    changed = out / "predictions" / "1.csv"
    changed.write_text(changed.read_text() + "\n")  # the record's SHA-256 no longer matches
    assert holdout.read_prediction(out, 1, json.loads((out / "predictions" / "1.json").read_text())["key"]) is None
    code, _out, err = run_cli("lab", "experiment", "holdout", "--quick", "--out", out)
    assert code == 0 and json.loads((out / "predictions" / "1.json").read_text())["largest_model_then"] is not None
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["predicted_before_training"]  # seed 1 was predicted again after its model existed
    assert summary["mean_error"] == json.loads((quick_runs / "holdout" / "summary.json").read_text())["mean_error"]


# ---------------------------------------------------------------- results folders and the command


@pytest.mark.slow
def test_exported_results_load_and_refuse_a_changed_file(quick_runs, tmp_path):
    folder = quick_runs / "capacity-results"
    table, summary = results.load_results(folder)
    assert summary["experiment"] == "capacity" and len(table) == len(pd.read_csv(quick_runs / "capacity" / "table.csv"))
    assert results.stale_reason(folder) is None
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "table.csv").write_text((copy / "table.csv").read_text() + "\n1,2,3\n")
    with pytest.raises(SmiError, match="changed since"):
        results.load_results(copy)
    assert "changed since" in results.stale_reason(copy)
    verdicts = results.verdict_table("capacity", summary)
    assert list(verdicts.columns) == ["claim", "measured", "verdict"] and len(verdicts) == len(capacity.CLAIMS)
    with pytest.raises(SmiError, match="update the notebook"):
        results.check_verdicts(summary, {"saturates": "not a verdict"})


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_committed_results_are_made_by_the_current_code(name):
    folder = results.committed_dir(name)
    assert results.stale_reason(folder) is None, "run make experiments"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "0"], "--workers must be"),
        (["--seeds", "0"], "--seeds must be"),
    ],
)
def test_bad_options_stop_with_one_line(run_cli, tmp_path, argv, message):
    code, _out, err = run_cli("lab", "experiment", "diversity", "--quick", "--out", tmp_path / "run", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_an_out_folder_of_other_files_is_refused_untouched(run_cli, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    code, _out, err = run_cli("lab", "experiment", "diversity", "--quick", "--out", mine)
    assert code == 2 and "did not write" in err
    assert [path.name for path in mine.iterdir()] == ["notes.txt"]


def test_the_readme_quotes_every_committed_result():
    from smi.data import project_root

    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    for name in EXPERIMENTS:
        _, summary = results.load_results(results.committed_dir(name))
        assert results.headline(name, summary) in readme, f"README: {name}'s line is not the committed result"


@pytest.mark.slow
def test_export_never_replaces_files_it_did_not_write(quick_runs, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "table.csv").write_text("my own table\n")
    with pytest.raises(ParameterValueError, match="not an export of the capacity experiment"):
        results.export_results(quick_runs / "capacity", mine)
    assert (mine / "table.csv").read_text() == "my own table\n" and sorted(p.name for p in mine.iterdir()) == [
        "table.csv"
    ]
    other = tmp_path / "other"
    results.export_results(quick_runs / "diversity", other)
    with pytest.raises(ParameterValueError, match="capacity"):
        results.export_results(quick_runs / "capacity", other)  # one experiment's folder is not another's
    results.export_results(quick_runs / "diversity", other)  # its own export is replaced
