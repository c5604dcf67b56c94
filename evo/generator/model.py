"""The generative model of presets: PCA and a Gaussian mixture over the continuous parameters of
good presets, with the real presets of each mixture component kept as donors of everything that is
not a continuous number (wave mode, flags, equations, custom waves and shapes, shaders).

Why this split: MilkDrop's ~60 float parameters move together in recognisable ways (echo zoom
with echo alpha, decay with gamma, zoom with rotation), which a low-dimensional Gaussian mixture
captures; code does not interpolate, so a new preset borrows a real preset's equations whole, from
a preset whose numbers sit near the sampled ones (it was written for numbers like these).

:class:`ParamMixture` is a scikit-learn style estimator on plain arrays: ``fit(X)``, ``transform``,
``predict``, ``predict_proba``, ``inverse_transform`` and ``sample``; its learned state is plain
numbers (``attr_``) saved with ``to_json``, never pickled. Columns listed in ``log_columns`` are
modelled on a log scale (zoom, sx, sy, echo zoom, warp scale and speed, zoom exponent: ratios,
not differences, matter there); every column is clipped to its 0.5..99.5 percentile span first, so
one file with zoom=100 does not own an axis.
"""

from __future__ import annotations

import math

import numpy as np

from renderer.milk.params import SCHEMA

MODEL_FORMAT = 1

#: The continuous parameters the mixture models (fRating is a label, not a look).
CONTINUOUS_KEYS: tuple[str, ...] = tuple(k for k, s in SCHEMA.items() if s.type == "float" and k != "fRating")
#: Of those, the ones modelled on a log scale: strictly positive, valid over two decades or more.
LOG_KEYS: tuple[str, ...] = tuple(k for k in CONTINUOUS_KEYS
                                  if SCHEMA[k].valid[0] > 0 and SCHEMA[k].valid[1] / SCHEMA[k].valid[0] >= 100)


class ParamMixture:
    """Standardise (log where asked) -> PCA -> Gaussian mixture, components chosen by BIC."""

    def __init__(self, max_components: int = 10, variance: float = 0.9, max_dims: int = 12,
                 log_columns: tuple[int, ...] = (), covariance_type: str = "full", random_state: int = 0):
        self.max_components = max_components
        self.variance = variance
        self.max_dims = max_dims
        self.log_columns = tuple(log_columns)
        self.covariance_type = covariance_type
        self.random_state = random_state

    # -------------------------------------------------------------- fitting

    def fit(self, X) -> "ParamMixture":
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        X = self._check(X)
        if X.shape[0] < 4:
            raise ValueError(f"need at least 4 presets to fit, got {X.shape[0]}")
        self.n_features_in_ = X.shape[1]
        self.log_mask_ = np.zeros(X.shape[1], bool)
        self.log_mask_[list(self.log_columns)] = True
        lo, hi = np.nanpercentile(X, [0.5, 99.5], axis=0)
        self.clip_ = np.stack([lo, hi])
        U = self._unit(X, fitted_scale=False)
        self.center_ = U.mean(axis=0)
        scale = U.std(axis=0)
        self.scale_ = np.where(scale > 1e-9, scale, 1.0)
        Z = (U - self.center_) / self.scale_
        pca = PCA(n_components=min(self.max_dims, Z.shape[1], Z.shape[0] - 1), svd_solver="full",
                  random_state=self.random_state).fit(Z)
        keep = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), self.variance) + 1)
        keep = max(1, min(keep, pca.n_components_))
        self.components_ = pca.components_[:keep].copy()
        self.pca_mean_ = pca.mean_.copy()
        self.explained_variance_ratio_ = pca.explained_variance_ratio_[:keep].copy()
        P = self._project(Z)
        best, best_bic = None, math.inf
        for k in range(1, min(self.max_components, max(1, P.shape[0] // 10)) + 1):
            gm = GaussianMixture(k, covariance_type=self.covariance_type, reg_covar=1e-4, n_init=2,
                                 random_state=self.random_state).fit(P)
            bic = gm.bic(P)
            if bic < best_bic:
                best, best_bic = gm, bic
        self.bic_ = float(best_bic)
        self.weights_ = best.weights_.copy()
        self.means_ = best.means_.copy()
        self.covariances_ = _full_covariances(best)
        return self

    # -------------------------------------------------------------- transforms

    def transform(self, X) -> np.ndarray:
        """Latent (PCA) coordinates of raw parameter rows."""
        self._fitted()
        return self._project((self._unit(self._check(X)) - self.center_) / self.scale_)

    def inverse_transform(self, P) -> np.ndarray:
        """Raw parameter rows of latent coordinates, clipped to the fitted span."""
        self._fitted()
        P = np.atleast_2d(np.asarray(P, dtype=np.float64))
        Z = P @ self.components_ + self.pca_mean_
        U = Z * self.scale_ + self.center_
        X = np.where(self.log_mask_, np.exp(np.clip(U, -50, 50)), U)
        return np.clip(X, self.clip_[0], self.clip_[1])

    def move(self, X, P) -> np.ndarray:
        """Rows ``X`` moved to latent points ``P``: what the latent space holds changes, everything
        the PCA leaves out (the rest of each row's variance) stays as it was."""
        self._fitted()
        X = self._check(X)
        P = np.atleast_2d(np.asarray(P, dtype=np.float64))
        Z = (self._unit(X) - self.center_) / self.scale_
        Z = Z + (P - self._project(Z)) @ self.components_
        U = Z * self.scale_ + self.center_
        out = np.where(self.log_mask_, np.exp(np.clip(U, -50, 50)), U)
        return np.clip(out, self.clip_[0], self.clip_[1])

    def predict_proba(self, X) -> np.ndarray:
        return self._responsibilities(self.transform(X))

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def score_samples(self, X) -> np.ndarray:
        """Log density of each row's latent point under the mixture."""
        return _logsumexp(self._log_joint(self.transform(X)))

    def sample(self, n: int, rng: np.random.Generator, weights=None, temperature: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray]:
        """(n latent points, their components); ``weights`` over components replaces the mixture's
        own (aiming at a family or a gap), ``temperature`` scales the covariances."""
        self._fitted()
        w = self.weights_ if weights is None else np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        comps = rng.choice(len(w), size=int(n), p=w)
        out = np.empty((int(n), self.means_.shape[1]))
        for i, c in enumerate(comps):
            out[i] = rng.multivariate_normal(self.means_[c], self.covariances_[c] * temperature)
        return out, comps

    def responsibilities(self, P) -> np.ndarray:
        """Component responsibilities of latent points."""
        return self._responsibilities(np.atleast_2d(P))

    # -------------------------------------------------------------- saving

    def to_json(self) -> dict:
        self._fitted()
        params = {k: getattr(self, k) for k in ("max_components", "variance", "max_dims", "covariance_type",
                                                "random_state")}
        params["log_columns"] = list(self.log_columns)
        learned = {k: np.asarray(getattr(self, k)).tolist() for k in (
            "log_mask_", "clip_", "center_", "scale_", "components_", "pca_mean_", "explained_variance_ratio_",
            "weights_", "means_", "covariances_")}
        return {"params": params, "learned": learned, "n_features_in_": self.n_features_in_, "bic_": self.bic_}

    @classmethod
    def from_json(cls, d: dict) -> "ParamMixture":
        p = dict(d["params"])
        m = cls(p.pop("max_components"), p.pop("variance"), p.pop("max_dims"), tuple(p.pop("log_columns")),
                p.pop("covariance_type"), p.pop("random_state"))
        for k, v in d["learned"].items():
            setattr(m, k, np.asarray(v, dtype=bool if k == "log_mask_" else np.float64))
        m.n_features_in_, m.bic_ = int(d["n_features_in_"]), float(d["bic_"])
        m._check_shapes()
        return m

    # -------------------------------------------------------------- internals

    def _check(self, X) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if hasattr(self, "n_features_in_") and X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} columns, got {X.shape[1]}")
        return X

    def _fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ValueError("this ParamMixture is not fitted yet")

    def _check_shapes(self) -> None:
        d, k = self.n_features_in_, len(self.weights_)
        q = self.components_.shape[0]
        ok = (self.components_.shape == (q, d) and self.means_.shape == (k, q) and self.covariances_.shape == (k, q, q)
              and self.scale_.shape == (d,) and self.clip_.shape == (2, d) and self.log_mask_.shape == (d,))
        if not ok:
            raise ValueError("a saved ParamMixture whose arrays do not fit together")

    def _unit(self, X: np.ndarray, fitted_scale: bool = True) -> np.ndarray:
        X = np.clip(np.where(np.isfinite(X), X, np.nan), self.clip_[0], self.clip_[1])
        X = np.where(np.isnan(X), np.nanmedian(X, axis=0) if X.shape[0] > 1 else self.clip_.mean(axis=0), X)
        X = np.where(np.isnan(X), 0.0, X)
        return np.where(self.log_mask_, np.log(np.maximum(X, 1e-6)), X)

    def _project(self, Z: np.ndarray) -> np.ndarray:
        return (Z - self.pca_mean_) @ self.components_.T

    def _log_joint(self, P: np.ndarray) -> np.ndarray:
        from scipy.stats import multivariate_normal

        cols = [np.log(w) + multivariate_normal(mean=mu, cov=cov, allow_singular=True).logpdf(P)
                for w, mu, cov in zip(self.weights_, self.means_, self.covariances_)]
        return np.atleast_2d(np.stack(cols, axis=-1))

    def _responsibilities(self, P: np.ndarray) -> np.ndarray:
        lj = self._log_joint(P)
        return np.exp(lj - _logsumexp(lj)[:, None])


def _full_covariances(gm) -> np.ndarray:
    cov = np.asarray(gm.covariances_)
    k, q = gm.means_.shape
    if gm.covariance_type == "full":
        return cov.copy()
    if gm.covariance_type == "tied":
        return np.repeat(cov[None], k, axis=0)
    if gm.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([np.eye(q) * c for c in cov])  # spherical


def _logsumexp(a: np.ndarray) -> np.ndarray:
    m = a.max(axis=1)
    return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def log_columns(keys) -> tuple[int, ...]:
    return tuple(i for i, k in enumerate(keys) if k in LOG_KEYS)
