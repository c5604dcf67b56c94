"""The taste model: P(liked) for a candidate, learned from a few dozen to a few hundred votes.

With that little data what works is a low-capacity, calibrated model on compact features: an L2
logistic regression on standardised features (its strength chosen by cross-validation when
there is enough data). Its quality is measured, never assumed: ``cv_auc_`` is the
cross-validated area under the ROC curve on the *human* labels (bootstrap labels train but are
never scored), and selection gives the model a weight only when that is better than chance.

Files are JSON (coefficients, scaler, feature names, counts) with a SHA-256 of their content:
loading runs no code, and a file whose numbers were edited is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

MODEL_KIND = "liandan.taste_model"
MODEL_FORMAT = 1
C_GRID = (0.1, 1.0, 10.0)


class TasteModelError(ValueError):
    """A model file that cannot be used (missing, not ours, malformed or edited); names the file."""


class TasteModel:
    """fit(X, y, sample_weight, is_human) / predict_proba(X) / decision(X), scikit-learn style."""

    def __init__(self, names: tuple[str, ...], C: float | None = None, seed: int = 0):
        self.names = tuple(names)
        self.C = C
        self.seed = seed

    # ---- learning

    def fit(self, X, y, sample_weight=None, is_human=None) -> "TasteModel":
        """Learn from labelled rows. On one BLAS thread: these problems are tiny, and a thread pool
        fighting over two busy cores made a fit 14x slower (10 s instead of 0.7 s at 100 votes)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return self._fit(X, y, sample_weight, is_human)

    def _fit(self, X, y, sample_weight=None, is_human=None) -> "TasteModel":
        from sklearn.linear_model import LogisticRegression

        X, y = np.asarray(X, float), np.asarray(y, int)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        human = np.ones(len(y), bool) if is_human is None else np.asarray(is_human, bool)
        if len(set(y.tolist())) < 2:
            raise ValueError("need both liked and disliked examples to learn a taste")
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ < 1e-9] = 1.0
        Z = (X - self.mean_) / self.scale_
        self.C_ = self.C if self.C is not None else self._choose_c(Z, y, w, human)
        clf = LogisticRegression(C=self.C_, max_iter=2000)
        clf.fit(Z, y, sample_weight=w)
        self.coef_ = clf.coef_[0].copy()
        self.intercept_ = float(clf.intercept_[0])
        self.cv_auc_ = self._cv_auc(Z, y, w, human, self.C_, keep=True)
        self.n_human_ = int(human.sum())
        self.n_bootstrap_ = int((~human).sum())
        self.n_liked_ = int(y[human].sum())
        return self

    def _choose_c(self, Z, y, w, human) -> float:
        scores = {c: self._cv_auc(Z, y, w, human, c) for c in C_GRID}
        scored = {c: s for c, s in scores.items() if s is not None}
        return max(scored, key=lambda c: (scored[c], -c)) if scored else 1.0

    def _cv_auc(self, Z, y, w, human, C, keep: bool = False) -> float | None:
        """AUC on human labels held out by stratified k-fold (k <= 5); None with too few of them.
        ``keep``: remember the held-out P(liked) of each human example (``oof_``), which is what
        a reliability plot should show (the fitted model flatters itself on its own data)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        hy = y[human]
        k = int(min(5, np.bincount(hy, minlength=2).min())) if hy.size else 0
        if k < 2:
            return None
        idx = np.flatnonzero(human)
        preds = np.zeros(idx.size)
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.seed)
        for train_h, test_h in folds.split(idx, hy):
            test = idx[test_h]
            train = np.ones(len(y), bool)
            train[test] = False
            if len(set(y[train].tolist())) < 2:
                return None
            clf = LogisticRegression(C=C, max_iter=2000).fit(Z[train], y[train], sample_weight=w[train])
            preds[test_h] = clf.decision_function(Z[test])
        if keep:
            self.oof_ = (1.0 / (1.0 + np.exp(-np.clip(preds, -40, 40))), hy.copy())
        return float(roc_auc_score(hy, preds))

    # ---- predicting

    def decision(self, X) -> np.ndarray:
        Z = (np.atleast_2d(np.asarray(X, float)) - self.mean_) / self.scale_
        return Z @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-np.clip(self.decision(X), -40, 40)))
        return np.column_stack([1.0 - p, p])

    def liked(self, X) -> np.ndarray:
        return self.predict_proba(X)[:, 1]

    def importances(self) -> list[tuple[str, float]]:
        """Features by the size of their (standardised) coefficient: what the model goes by."""
        order = np.argsort(-np.abs(self.coef_))
        return [(self.names[i], float(self.coef_[i])) for i in order]

    # ---- files

    def to_json(self) -> dict:
        body = {"kind": MODEL_KIND, "format": MODEL_FORMAT, "names": list(self.names), "C": self.C_,
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(), "coef": self.coef_.tolist(),
                "intercept": self.intercept_, "cv_auc": self.cv_auc_, "n_human": self.n_human_,
                "n_bootstrap": self.n_bootstrap_, "n_liked": self.n_liked_}
        return {**body, "sha256": _digest(body)}

    def save(self, path) -> None:
        from renderer.output.files import atomic_write_bytes

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(self.to_json(), indent=1).encode())

    @classmethod
    def load(cls, path) -> "TasteModel":
        try:
            doc = json.loads(Path(path).read_text())
        except FileNotFoundError as exc:
            raise TasteModelError(f"{path}: no such model") from exc
        except (OSError, ValueError) as exc:
            raise TasteModelError(f"{path}: not a JSON model ({exc})") from exc
        return cls.from_json(doc, str(path))

    @classmethod
    def from_json(cls, doc, where: str = "<model>") -> "TasteModel":
        if not isinstance(doc, dict) or doc.get("kind") != MODEL_KIND:
            raise TasteModelError(f"{where}: not a liandan taste model")
        if doc.get("format") != MODEL_FORMAT:
            raise TasteModelError(f"{where}: model format {doc.get('format')!r} is not {MODEL_FORMAT}")
        body = {k: v for k, v in doc.items() if k != "sha256"}
        if doc.get("sha256") != _digest(body):
            raise TasteModelError(f"{where}: the model's content does not match its checksum (edited or damaged); "
                                  "train it again with `liandan predictor train`")
        try:
            m = cls(tuple(str(n) for n in doc["names"]), float(doc["C"]))
            m.C_ = float(doc["C"])
            m.mean_, m.scale_, m.coef_ = (np.asarray(doc[k], float) for k in ("mean", "scale", "coef"))
            m.intercept_ = float(doc["intercept"])
            m.cv_auc_ = None if doc["cv_auc"] is None else float(doc["cv_auc"])
            m.n_human_, m.n_bootstrap_, m.n_liked_ = int(doc["n_human"]), int(doc["n_bootstrap"]), int(doc["n_liked"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TasteModelError(f"{where}: malformed model ({type(exc).__name__}: {exc})") from exc
        n = len(m.names)
        if not (m.mean_.shape == m.scale_.shape == m.coef_.shape == (n,)) or not all(
                np.all(np.isfinite(a)) for a in (m.mean_, m.scale_, m.coef_)) or not math.isfinite(m.intercept_):
            raise TasteModelError(f"{where}: malformed model (shapes or numbers)")
        return m


def _digest(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def model_weight(model: TasteModel | None, max_weight: float = 0.5, full_at: int = 60) -> float:
    """How much the model's opinion counts in selection: zero with no votes or a model no better
    than chance (cross-validated AUC <= 0.5), growing with the number of human votes (full at
    ``full_at``) and with the AUC (full at 0.8)."""
    if model is None or not model.n_human_ or model.cv_auc_ is None:
        return 0.0
    quality = float(np.clip((model.cv_auc_ - 0.5) / 0.3, 0.0, 1.0))
    return float(max_weight * min(1.0, model.n_human_ / full_at) * quality)
