"""Tests of jaxinit.tf's PsychRNN side: which weights go over, the initializer, real PsychRNN.

TensorFlow runs eagerly in this process; real PsychRNN (which switches eager
mode off when imported) runs only in a child process, through
``psychrnn_support.run_psychrnn``, with all its cases in one child.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from tests.conftest import require_module

tf = require_module("tensorflow", "tf")

import jaxinit  # noqa: E402
import jaxinit.tf as jtf  # noqa: E402
from jaxinit._src.transfer import transfer_function_name  # noqa: E402
from tests.psychrnn_support import run_psychrnn  # noqa: E402
from tests.tf_support import (  # noqa: E402
    MASK_NAMES,
    NAMES,
    WEIGHT_NAMES,
    assert_effective,
    networks,
    psychrnn_transform,
    raw_arrays,
)

# ----------------------------------------------------------------------------
# Which weights are handed over
# ----------------------------------------------------------------------------


def test_weights_modes():
    nets = networks()
    for case, params in nets.items():
        raw = raw_arrays(params)
        eff = [np.asarray(w) for w in jaxinit.effective(params)]
        default = jtf.variable_initializers(params)
        forced_raw = jtf.variable_initializers(params, weights="raw")
        forced_eff = jtf.variable_initializers(params, weights="effective")
        hand_effective = params.dale_ratio == 0
        init = jtf.psychrnn_initializer(params)
        for name, eff_w in zip(WEIGHT_NAMES, eff, strict=True):
            np.testing.assert_array_equal(forced_raw[name].value, raw[name])
            np.testing.assert_array_equal(forced_eff[name].value, eff_w)
            np.testing.assert_array_equal(default[name].value, eff_w, err_msg=f"{case} {name}")
            # for PsychRNN: raw weights, effective ones for dale_ratio 0
            want = eff_w if hand_effective else raw[name]
            np.testing.assert_array_equal(init.initializations[name], want, err_msg=case)

        # PsychRNN's transform, with the ratio the shim reports, gives effective(params)
        arrays = {n: init.initializations[n] for n in NAMES}
        got = dict(
            zip(WEIGHT_NAMES, psychrnn_transform(arrays, init.get_dale_ratio()), strict=True)
        )
        assert_effective(got, params)
        # effective weights are a fixed point of the transform, Dale or not
        eff_arrays = {n: forced_eff[n].value for n in NAMES}
        for ratio in (None, 0.0, params.dale_ratio):
            got = dict(zip(WEIGHT_NAMES, psychrnn_transform(eff_arrays, ratio), strict=True))
            assert_effective(got, params)


def test_deprecated_spellings_warn_and_keep_their_behaviour():
    nets = networks()
    for case in ("dale_masks", "dale0_masks"):  # raw, and effective for dale_ratio 0
        params = nets[case]
        with pytest.warns(DeprecationWarning, match="weights='psychrnn' is deprecated") as rec:
            old = jtf.variable_initializers(params, weights="psychrnn")
        assert len(rec) == 1 and rec[0].filename == __file__
        init = jtf.psychrnn_initializer(params)
        for name in NAMES:
            np.testing.assert_array_equal(old[name].value, init.initializations[name])
    params = nets["dale_masks"]
    raw = raw_arrays(params)
    for spelling, transposed in (("psychrnn", False), ("keras", True)):
        with pytest.warns(DeprecationWarning, match=f"layout='{spelling}' is deprecated"):
            got = jtf.variable_initializers(params, weights="raw", layout=spelling)
        want = raw["W_in"].T if transposed else raw["W_in"]
        np.testing.assert_array_equal(got["W_in"].value, want)
    # the 0.1 name keeps its 0.1 default (weights="psychrnn") for this release
    with pytest.warns(DeprecationWarning, match=r"jaxinit\.tf\.initializers is deprecated") as rec:
        old = jtf.initializers(params)
    assert len(rec) == 1
    np.testing.assert_array_equal(old["W_rec"].value, raw["W_rec"])
    with pytest.warns(DeprecationWarning, match=r"use jaxinit\.tf\.variable_initializers"):
        old = jtf.initializers(nets["dale0_masks"], weights="effective", layout="in_out")
    eff = jaxinit.effective(nets["dale0_masks"])
    np.testing.assert_array_equal(old["W_rec"].value, np.asarray(eff.W_rec).T)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="weights must be"):
        jtf.initializers(params, weights="masked")


def test_zero_dale_ratio_is_tiny_and_dale_on(tmp_path):
    from jaxinit._src.files.layout import psychrnn_dale_ratio

    tiny = float(np.finfo(np.float64).tiny)
    assert psychrnn_dale_ratio(0.0) == tiny  # the value save_npz writes for a ratio of 0
    params = networks()["alpha_dale0"]
    assert params.dale_ratio == 0.0
    init = jtf.psychrnn_initializer(params)
    ratio = init.get_dale_ratio()
    assert type(ratio) is float and ratio == tiny and ratio > 0.0
    assert init.initializations["dale_ratio"] is ratio
    # PsychRNN: `if dale_ratio:` applies Dale's law, with int(ratio * N) = 0 excitatory units
    assert bool(ratio) is True
    assert int(ratio * params.N_rec) == 0
    assert f"dale_ratio={tiny!r}" in repr(init)
    # as PsychRNN's RNN.save writes it; load_npz reads it back as 0 (Dale on, all inhibitory)
    np.savez(tmp_path / "r.npz", dale_ratio=ratio)
    with np.load(tmp_path / "r.npz", allow_pickle=False) as f:
        assert f["dale_ratio"].dtype == np.float64 and f["dale_ratio"] == tiny
    # None stays None (PsychRNN accepts it: no Dale's law); other ratios are unchanged
    nodale = jtf.psychrnn_initializer(networks()["alpha_nodale"])
    assert nodale.get_dale_ratio() is None
    assert jtf.psychrnn_initializer(networks()["alpha_dale1"]).get_dale_ratio() == 1.0
    assert not hasattr(jtf, "_ZeroDaleRatio")


def test_psychrnn_initializer_interface():
    nets = networks()
    for case, params in nets.items():
        init = jtf.psychrnn_initializer(params)
        assert (init.N_in, init.N_rec, init.N_out) == (params.N_in, params.N_rec, params.N_out)
        assert init.params is params
        if params.dale_ratio == 0:
            assert init.get_dale_ratio() == np.finfo(np.float64).tiny, case
        else:
            assert init.get_dale_ratio() == params.dale_ratio, case
        fn = init.get_transfer_function()
        assert fn is init.initializations["transfer_function"]
        assert transfer_function_name(fn) == params.transfer_function, case
        assert set(init.initializations) == {*NAMES, "dale_ratio", "transfer_function"}
        assert isinstance(init.get("W_rec"), jtf.ArrayInitializer)
        assert repr(init).startswith("PsychRNNInitializer(N_in=2, N_rec=12, N_out=2")
        model = jtf.psychrnn_params(params, name=case)
        assert model["transfer_function"] is fn


def test_save(tmp_path):
    from jaxinit._src.files.layout import METADATA_KEY, RAW_PREFIX

    nets = networks()
    for case, params in nets.items():
        init = jtf.psychrnn_initializer(params)
        path = init.save(str(tmp_path / case))  # appends .npz, like np.savez
        assert path == tmp_path / f"{case}.npz" and path.exists()
        # Only "no Dale's law" needs pickle: PsychRNN's own None object array.
        with np.load(path, allow_pickle=params.dale_ratio is None) as f:
            saved = {k: f[k] for k in f.files}
        assert set(saved) == {
            *NAMES,
            "dale_ratio",
            METADATA_KEY,
            *(RAW_PREFIX + n for n in WEIGHT_NAMES),
        }, case
        # the effective weights under PsychRNN's names, the other arrays as they are
        assert_effective(saved, params, rtol=0, atol=0)
        raw = raw_arrays(params)
        np.testing.assert_array_equal(saved["init_state"], raw["init_state"][None, :])
        for name in ("b_rec", "b_out", "Dale_rec", "Dale_out", *MASK_NAMES):
            np.testing.assert_array_equal(saved[name], raw[name], err_msg=f"{case} {name}")
        for name in WEIGHT_NAMES:
            np.testing.assert_array_equal(saved[RAW_PREFIX + name], raw[name])
        # dale_ratio: None without Dale (as PsychRNN writes it), else the ratio PsychRNN
        # is told (the smallest positive float for 0, so PsychRNN keeps Dale's law on)
        assert saved["dale_ratio"].shape == ()
        if params.dale_ratio is None:
            assert saved["dale_ratio"].dtype == object, case
            assert saved["dale_ratio"].item() is None, case
        else:
            assert saved["dale_ratio"].dtype == np.float64, case
            assert saved["dale_ratio"] == init.get_dale_ratio(), case
            assert bool(saved["dale_ratio"]), case
        # the same file save_npz writes, and it loads back bit for bit
        again = jaxinit.load_npz(jaxinit.save_npz(tmp_path / f"{case}_direct", params))
        loaded = jaxinit.load_npz(path)
        assert loaded.dale_ratio == params.dale_ratio == again.dale_ratio, case
        assert loaded.transfer_function == params.transfer_function, case
        for field, value in params.arrays().items():
            got = np.asarray(getattr(loaded, field))
            assert got.dtype == np.asarray(value).dtype, f"{case} {field}"
            np.testing.assert_array_equal(got, np.asarray(value), err_msg=f"{case} {field}")
        # what is saved is the Params, not the (mutable) initializations
        init.initializations["W_rec"] *= 0
        init.save(tmp_path / "changed")
        np.testing.assert_array_equal(
            np.asarray(jaxinit.load_npz(tmp_path / "changed.npz").W_rec), np.asarray(params.W_rec)
        )
    assert init.save(tmp_path / "as_path.npz") == tmp_path / "as_path.npz"  # path-like too


# ----------------------------------------------------------------------------
# Real PsychRNN 1.0.0, in one child process
# ----------------------------------------------------------------------------

_CHILD = """
import jax, numpy as np
import jaxinit
import jaxinit.tf as jtf
from psychrnn.backend.models.basic import Basic
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

FIELDS = list(jaxinit.Params.__dataclass_fields__)
ARRAYS = [f for f in FIELDS if f not in ("dale_ratio", "transfer_function")]

def params_of(case):
    meta = inputs["meta"][case]
    return jaxinit.Params(
        **{f: jax.numpy.asarray(inputs[case + "/" + f]) for f in ARRAYS},
        dale_ratio=meta["dale_ratio"], transfer_function=meta["transfer_function"])

def record(prefix, model, names):
    weights = model.get_weights()
    for name in names:
        outputs[prefix + "/" + name] = np.asarray(weights[name])
    outputs[prefix + "/dale_on"] = np.asarray(bool(model.dale_ratio))

NAMES = list(jtf.NAMES)
shape = inputs["shape"]
x = inputs["x"]
for case in inputs["meta"]:
    params = params_of(case)
    model = Basic(jtf.psychrnn_params(params, name="m_" + case, **shape))
    record(case, model, NAMES)
    outputs[case + "/y"], outputs[case + "/states"] = model.test(x)
    model.destruct()

# PsychRNN's loss (output mask) and regularization terms on one network
for loss_name in ("mean_squared_error", "binary_cross_entropy"):
    case = inputs["loss_case"]
    params = params_of(case)
    d = jtf.psychrnn_params(params, name="r_" + loss_name, **shape)
    d.update(inputs["regularizers"], loss_function=loss_name)
    model = Basic(d)
    model.test(x)  # initialises the variables
    loss, reg = model.sess.run(
        [model.loss, model.reg],
        feed_dict={model.x: x, model.y: inputs["y"], model.output_mask: inputs["mask"]})
    outputs["loss/" + loss_name] = np.asarray(loss)
    outputs["reg/" + loss_name] = np.asarray(reg)
    model.destruct()

for case in inputs["saved"]:
    params = params_of(case)
    path = os.path.join(_d, case + "_init")
    jtf.psychrnn_initializer(params).save(path)
    d = dict(shape, name="l_" + case, load_weights_path=path + ".npz",
             N_in=params.N_in, N_rec=params.N_rec, N_out=params.N_out,
             transfer_function=jtf.tf_transfer_function(params.transfer_function))
    model = Basic(d)
    record("saved_" + case, model, ["W_in", "W_rec", "W_out"])
    model.destruct()

for case in inputs["trained"]:
    params = params_of(case)
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=16)
    tp = task.get_task_params()
    d = jtf.psychrnn_params(params, name="t_" + case, N_steps=tp["N_steps"], dt=tp["dt"],
                            tau=tp["tau"], N_batch=tp["N_batch"])
    model = Basic(d)
    record("before_" + case, model, ["W_in", "W_rec", "W_out"])
    losses, _, _ = model.train(
        task, {"training_iters": 48, "loss_epoch": 1, "verbosity": False})
    outputs["loss_" + case] = np.asarray(losses, dtype=np.float64)
    record("after_" + case, model, ["W_in", "W_rec", "W_out"])
    model.destruct()
"""


def _simulate(params, x, dt, tau):
    """Basic's forward pass (rec_noise 0) with jaxinit's effective weights."""
    eff = jaxinit.effective(params)
    W_in, W_rec, W_out = (np.asarray(w, np.float64) for w in eff)
    f = params.transfer
    alpha = dt / tau
    state = np.tile(np.asarray(params.init_state, np.float64), (x.shape[0], 1))
    ys = []
    for t in range(x.shape[1]):
        rate = np.asarray(f(state))
        state = (1 - alpha) * state + alpha * (
            rate @ W_rec.T + x[:, t] @ W_in.T + np.asarray(params.b_rec)
        )
        ys.append(np.asarray(f(state)) @ W_out.T + np.asarray(params.b_out))
    return np.stack(ys, axis=1)


@pytest.mark.slow
def test_real_psychrnn(tmp_path):
    nets = networks()
    shape = {"N_steps": 8, "dt": 10.0, "tau": 100.0, "N_batch": 3}
    x = np.random.default_rng(0).normal(size=(3, 8, 2)).astype(np.float32)
    arrays = {"x": x}
    meta = {}
    for case, params in nets.items():
        for field, value in params.arrays().items():
            arrays[f"{case}/{field}"] = np.asarray(value)
        meta[case] = {
            "dale_ratio": params.dale_ratio,
            "transfer_function": params.transfer_function,
        }
    trained = ["dale_masks"]
    saved = ["plain", "dale_masks", "dale0_masks"]
    rng = np.random.default_rng(1)
    n_out = nets["dale_masks"].W_out.shape[0]
    arrays["y"] = rng.uniform(0.05, 0.95, size=(3, 8, n_out)).astype(np.float32)
    arrays["mask"] = (rng.uniform(size=(3, 8, n_out)) < 0.6).astype(np.float32)
    regularizers = {"L1_in": 0.3, "L1_rec": 0.7, "L1_out": 1.1, "L2_in": 0.2,
                    "L2_rec": 0.5, "L2_out": 0.9, "L2_firing_rate": 1.3}
    values = {"meta": meta, "shape": shape, "trained": trained, "saved": saved,
              "loss_case": "dale_masks", "regularizers": regularizers}
    out = run_psychrnn(_CHILD, tmp_path, arrays=arrays, values=values)

    for case, params in nets.items():
        got = {name: out[f"{case}/{name}"] for name in NAMES}
        # the effective weights PsychRNN uses are exactly jaxinit.effective(params)
        assert_effective(got, params)
        assert bool(out[f"{case}/dale_on"]) == (params.dale_ratio is not None), case
        raw = raw_arrays(params)
        np.testing.assert_array_equal(got["init_state"], raw["init_state"][None, :])
        for name in ("b_rec", "b_out", "Dale_rec", "Dale_out", *MASK_NAMES):
            np.testing.assert_array_equal(got[name], raw[name], err_msg=f"{case} {name}")
        # and the model computes what the same network computes in jaxinit
        want_y = _simulate(params, x.astype(np.float64), shape["dt"], shape["tau"])
        np.testing.assert_allclose(out[f"{case}/y"], want_y, rtol=1e-4, atol=1e-5, err_msg=case)
        # jaxinit.basic_rnn, in float32 as PsychRNN: the same outputs and states to
        # float32 rounding (8 steps of sums over at most N_rec + N_in terms)
        y, states = jaxinit.basic_rnn(params, x, dt=shape["dt"], tau=shape["tau"])
        np.testing.assert_allclose(y, out[f"{case}/y"], rtol=1e-5, atol=1e-6, err_msg=case)
        np.testing.assert_allclose(
            states, out[f"{case}/states"], rtol=1e-5, atol=1e-6, err_msg=case
        )

    # PsychRNN's masked losses and regularizers: the same numbers in jaxinit
    params = nets["dale_masks"]
    y_hat, states = jaxinit.basic_rnn(params, x, dt=shape["dt"], tau=shape["tau"])
    reg = jaxinit.regularization(params, states, **regularizers)
    mse = jaxinit.mean_squared_error(y_hat, arrays["y"], arrays["mask"])
    bce = jaxinit.binary_cross_entropy(y_hat, arrays["y"], arrays["mask"])
    for name, loss in (("mean_squared_error", mse), ("binary_cross_entropy", bce)):
        np.testing.assert_allclose(loss, out[f"loss/{name}"], rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(reg, out[f"reg/{name}"], rtol=1e-5, err_msg=name)
    assert float(reg) > 0 and float(mse) > 0 and float(bce) > 0

    for case in saved:
        got = {name: out[f"saved_{case}/{name}"] for name in WEIGHT_NAMES}
        assert_effective(got, nets[case])
        dale_on = bool(out[f"saved_{case}/dale_on"])
        assert dale_on == (nets[case].dale_ratio is not None), case

    for case in trained:
        params = nets[case]
        losses = out[f"loss_{case}"]
        assert losses.size >= 2 and np.isfinite(losses).all(), case
        before = {n: out[f"before_{case}/{n}"] for n in WEIGHT_NAMES}
        after = {n: out[f"after_{case}/{n}"] for n in WEIGHT_NAMES}
        assert_effective(before, params)
        if np.asarray(params.dale_out_diag).any():  # else no gradient reaches W_rec
            assert not np.allclose(before["W_rec"], after["W_rec"]), "training changed nothing"
        signs = np.asarray(params.dale_rec_diag)
        reach = np.asarray(params.dale_out_diag)
        # Dale's law holds after training: column signs, masks, silent inhibitory outputs
        assert (after["W_rec"] * signs[None, :] >= 0).all(), case
        assert (np.sign(after["W_rec"]) * np.sign(before["W_rec"]) >= 0).all(), case
        assert (after["W_in"] >= 0).all() and (after["W_out"] >= 0).all(), case
        assert (after["W_out"][:, reach == 0] == 0).all(), case
        for name, mask in zip(WEIGHT_NAMES, MASK_NAMES, strict=True):
            off = np.asarray(getattr(params, mask)) == 0
            assert (after[name][off] == 0).all(), f"{case} {name}"
