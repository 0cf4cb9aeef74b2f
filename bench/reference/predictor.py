"""NOT PRODUCT CODE — benchmark reference only.

The original system's predictor.py pattern (the SageMaker "bring your own container" sample): a flask app whose
ScoringService loads the model once per gunicorn worker, parses every request with pandas, cross-joins the
applicants with the card catalogue in a DataFrame and scores it. It does the same work as the product for the same
requests (same artefact, same odds, same response shape) but deliberately keeps the original's style, no validation
and no optimisation: it is the baseline issue 7 measures against.
"""

import io
import json
import os
import warnings

import flask
import joblib
import pandas as pd

warnings.filterwarnings("ignore")  # the original never silenced anything per call; avoid log spam in the bench

MODEL_DIR = os.environ.get("MODEL_DIR", "/opt/ml/model")
TRUE_WORDS = ("1", "true", "yes")


class ScoringService:
    model = None
    metadata = None
    cards = None

    @classmethod
    def get_model(cls):
        if cls.model is None:
            with open(os.path.join(MODEL_DIR, "model_metadata.json")) as handle:
                cls.metadata = json.load(handle)
            cls.model = joblib.load(os.path.join(MODEL_DIR, "model.joblib"))
            cards = pd.read_csv(os.path.join(MODEL_DIR, "card_variables.csv"))
            active = cards["active"].astype(str).str.lower().isin(TRUE_WORDS)
            cls.cards = cards[active].reset_index(drop=True)
            for feature in cls.metadata["card_features"]:
                if feature["type"] == "boolean":
                    cls.cards[feature["name"]] = (
                        cls.cards[feature["name"]].astype(str).str.lower().isin(TRUE_WORDS).astype(int)
                    )
        return cls.model

    @classmethod
    def applicant_columns(cls):
        return [feature["name"] for feature in cls.metadata["applicant_features"]]

    @classmethod
    def predict(cls, applicants):
        model = cls.get_model()
        pairs = applicants.merge(cls.cards, how="cross")
        columns = cls.metadata["feature_order"]
        inputs = pairs[columns] if hasattr(model, "feature_names_in_") else pairs[columns].values
        pairs["approval_odds"] = model.predict_proba(inputs)[:, list(model.classes_).index(1)]
        return pairs


app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    health = ScoringService.get_model() is not None
    return flask.Response(response="\n", status=200 if health else 404, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def transformation():
    ScoringService.get_model()
    if flask.request.content_type == "text/csv":
        data = flask.request.data.decode("utf-8")
        applicants = pd.read_csv(io.StringIO(data), header=None, names=ScoringService.applicant_columns())
        applicants["applicant_id"] = None
    elif flask.request.content_type in ("application/json", None):
        payload = json.loads(flask.request.data.decode("utf-8"))
        rows = payload["applicants"] if "applicants" in payload else [payload["applicant"]]
        applicants = pd.DataFrame(rows)
        if "applicant_id" not in applicants:
            applicants["applicant_id"] = None
        for feature in ScoringService.metadata["applicant_features"]:
            if feature["type"] == "boolean":
                applicants[feature["name"]] = applicants[feature["name"]].astype(int)
    else:
        message = "This predictor only supports CSV or JSON data"
        return flask.Response(response=message, status=415, mimetype="text/plain")

    scored = ScoringService.predict(applicants)
    n_cards = len(ScoringService.cards)
    if flask.request.headers.get("Accept") == "text/csv":
        odds = pd.DataFrame(scored["approval_odds"].values.reshape(len(applicants), n_cards))
        out = io.StringIO()
        odds.to_csv(out, header=False, index=False, float_format="%.6f")
        return flask.Response(response=out.getvalue().rstrip("\n"), status=200, mimetype="text/csv")

    results = []
    for position in range(len(applicants)):
        block = scored.iloc[position * n_cards : (position + 1) * n_cards]
        block = block.sort_values("approval_odds", ascending=False)
        results.append(
            {
                "applicant_id": applicants["applicant_id"].iloc[position],
                "odds": [
                    {"card_id": card, "approval_odds": float(odds)}
                    for card, odds in zip(block["card_id"], block["approval_odds"], strict=True)
                ],
            }
        )
    body = {
        "model_version": ScoringService.metadata["model_version"],
        "catalog_version": "bundled",
        "results": results,
    }
    return flask.Response(response=json.dumps(body), status=200, mimetype="application/json")
