"""The fake contract server plus the clinical endpoints the chart and prescribing use.

Extends ``FakeHmsServer`` (unchanged) with a doctor, patients, a care team, notes with
versions, vitals with flags, allergies, problems, ICD-10, a formulary with one interaction
rule, prescriptions with the 409 safety check, and break-the-glass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from tests.desktop.fake_server import FakeHmsServer, problem

DOCTOR_PASSWORD = "doctor-pass"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FORMULARY = [
    {"id": 1, "generic_name": "warfarin", "form": "tablet", "strength": "5 mg", "route": "oral"},
    {"id": 2, "generic_name": "aspirin", "form": "tablet", "strength": "75 mg", "route": "oral"},
    {"id": 3, "generic_name": "amoxicillin", "form": "capsule", "strength": "500 mg",
     "route": "oral"},
    {"id": 4, "generic_name": "paracetamol", "form": "tablet", "strength": "500 mg",
     "route": "oral"},
]
ICD10 = [("J45.909", "Unspecified asthma, uncomplicated"), ("I10", "Essential hypertension"),
         ("E11.9", "Type 2 diabetes mellitus without complications"),
         ("J06.9", "Acute upper respiratory infection, unspecified")]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _flag(value, low, high):
    if value is None:
        return None
    return "L" if value < low else "H" if value > high else None


@dataclass
class FakeClinicalServer(FakeHmsServer):
    patients: dict[int, dict] = field(default_factory=dict)
    care_team: set[int] = field(default_factory=set)
    allergies: dict[int, list[dict]] = field(default_factory=dict)
    problems: dict[int, list[dict]] = field(default_factory=dict)
    vitals: dict[int, list[dict]] = field(default_factory=dict)
    notes: dict[int, list[dict]] = field(default_factory=dict)
    prescriptions: list[dict] = field(default_factory=list)
    break_glass_reasons: list[str] = field(default_factory=list)
    glass: set[int] = field(default_factory=set)

    @classmethod
    def with_clinical_data(cls) -> FakeClinicalServer:
        server = cls.with_demo_data()
        server.doctor = server.add_user("doctor", "Dr Dana Doctor", ["doctor"], DOCTOR_PASSWORD)
        names = [("Amina", "Okafor", "female", "1961-03-14"), ("Ben", "Mensah", "male",
                 "1990-07-02"), ("Chloe", "Novak", "female", "2001-12-30")]
        for i, (given, family, sex, dob) in enumerate(names, start=1):
            server.patients[i] = {"id": i, "mrn": f"HMS-{1000 + i}", "given_name": given,
                                  "family_name": family, "sex": sex, "date_of_birth": dob,
                                  "birth_date_estimated": False, "version": 1}
        server.care_team = {1, 2}
        server.allergies[1] = [{"id": 1, "patient_id": 1, "substance": "penicillin",
                                "reaction": "anaphylaxis", "severity": "severe",
                                "status": "active", "category": "medication",
                                "recorded_at": _iso(NOW - timedelta(days=400))}]
        server.vitals[1] = [
            server._vitals_row(1, NOW - timedelta(days=10 - d), 128 + d * 6, 82 + d * 2,
                               70 + d) for d in range(6)]
        server.notes[1] = [server._note_row(1, 1, "Initial consultation", "Cough 3 days")]
        return server

    # -- rows --------------------------------------------------------------------------
    def _vitals_row(self, pid, when, sys_, dia, pulse, **extra) -> dict:
        row = {"id": sum(len(v) for v in self.vitals.values()) + 1, "patient_id": pid,
               "recorded_at": _iso(when), "systolic_mmhg": sys_, "diastolic_mmhg": dia,
               "heart_rate_bpm": pulse, "respiratory_rate": None, "temperature_c": None,
               "spo2_pct": None, "weight_kg": None, "height_cm": None, "bmi": None, **extra}
        flags = {"systolic_mmhg": _flag(sys_, 90, 139), "diastolic_mmhg": _flag(dia, 60, 89),
                 "heart_rate_bpm": _flag(pulse, 50, 100)}
        row["flags"] = {k: v for k, v in flags.items() if v}
        return row

    def _note_row(self, pid, note_id, title, subjective, signed=True) -> dict:
        version = {"version_no": 1, "subjective": subjective, "objective": None,
                   "assessment": None, "plan": None, "body": None, "amendment_reason": None,
                   "author_name": "Dr Dana Doctor", "created_at": _iso(NOW),
                   "signed_at": _iso(NOW) if signed else None, "signed": signed}
        return {"id": note_id, "patient_id": pid, "note_type": "soap", "title": title,
                "author_name": "Dr Dana Doctor", "created_at": _iso(NOW), "version": 1,
                "signed": signed, "current": version, "versions": [version]}

    def chart_of(self, pid: int) -> dict:
        vitals = sorted(self.vitals.get(pid, []), key=lambda v: v["recorded_at"])
        return {"patient": {**self.patients[pid], "age_years": 40},
                "access": "break_glass" if pid in self.glass else "care_team",
                "allergies": self.allergies.get(pid, []),
                "has_allergies": bool(self.allergies.get(pid)),
                "problems": self.problems.get(pid, []), "medications": self._meds(pid),
                "latest_vitals": vitals[-1] if vitals else None,
                "recent_encounters": [{"id": 1, "kind": "outpatient", "reason": "Cough",
                                       "started_at": _iso(NOW - timedelta(days=3))}],
                "counts": {}}

    def _meds(self, pid: int) -> list[dict]:
        out = []
        for rx in self.prescriptions:
            if rx["patient_id"] != pid:
                continue
            for item in rx["items"]:
                drug = next(d for d in FORMULARY if d["id"] == item["drug_id"])
                out.append({"prescription_id": rx["id"], "prescription_number": rx["number"],
                            "generic_name": drug["generic_name"], "strength": drug["strength"],
                            "form": drug["form"], "prescribed_at": _iso(NOW), **item,
                            "dose": str(item["dose"])})
        return out

    # -- dispatch ----------------------------------------------------------------------
    def _routes(self):
        p = r"/patients/(\d+)"
        return [
            *super()._routes(),
            ("GET", r"/patients", self._search),
            ("GET", r"/doctors", self._doctors),
            ("GET", r"/appointments", self._appointments),
            ("GET", p + "/chart", self._guard(lambda r, pid: self._json(self.chart_of(pid)))),
            ("POST", p + "/break-glass", self._break_glass),
            ("GET", p + "/timeline", self._guard(self._timeline)),
            ("GET", p + "/notes", self._guard(lambda r, pid: self._page(self.notes.get(pid,
                                                                                       [])))),
            ("POST", p + "/notes", self._guard(self._create_note)),
            ("POST", p + r"/notes/(\d+)/amend", self._amend_note),
            ("GET", p + "/vitals", self._guard(self._list_vitals)),
            ("POST", p + "/vitals", self._guard(self._record_vitals)),
            ("GET", p + "/allergies", self._guard(lambda r, pid: self._page(
                self.allergies.get(pid, [])))),
            ("POST", p + "/allergies", self._guard(self._add_allergy)),
            ("GET", p + "/problems", self._guard(lambda r, pid: self._page(
                self.problems.get(pid, [])))),
            ("POST", p + "/problems", self._guard(self._add_problem)),
            ("GET", p + "/medications", self._guard(lambda r, pid: self._page(self._meds(pid)))),
            ("GET", p + "/lab-orders", self._guard(lambda r, pid: self._page([]))),
            ("GET", p + "/documents", self._guard(lambda r, pid: self._page([]))),
            ("GET", r"/icd10", self._icd10),
            ("GET", r"/formulary", self._formulary),
            ("POST", r"/prescriptions", self._prescribe),
            ("GET", r"/prescriptions/(\d+)", self._get_prescription),
        ]

    @staticmethod
    def _json(body, status: int = 200) -> httpx.Response:
        return httpx.Response(status, json=body)

    def _page(self, items: list, request: httpx.Request | None = None) -> httpx.Response:
        return self._json({"items": items, "total": len(items)})

    def _guard(self, handler):
        """Doctor only; charts outside the care team answer care_relationship_required."""

        def wrapped(request: httpx.Request, pid: str, *rest):
            _user, error = self._require(request, "doctor")
            if error:
                return error
            if int(pid) not in self.care_team | self.glass:
                return problem(403, "care_relationship_required",
                               "You are not in this patient's care team.")
            return handler(request, int(pid), *rest)

        return wrapped

    def _search(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "").lower()
        rows = [p for p in self.patients.values()
                if not q or q in f"{p['given_name']} {p['family_name']} {p['mrn']}".lower()]
        rows.sort(key=lambda p: (p["family_name"], p["given_name"]))
        limit, offset = int(request.url.params.get("limit", 50)), int(
            request.url.params.get("offset", 0))
        return self._json({"items": rows[offset:offset + limit], "total": len(rows)})

    def _doctors(self, request: httpx.Request) -> httpx.Response:
        return self._page([{"id": 7, "user_id": self.doctor.id, "full_name": "Dr Dana Doctor"}])

    def _appointments(self, request: httpx.Request) -> httpx.Response:
        p = self.patients[2]
        return self._page([{"id": 50, "patient_id": 2, "doctor_id": 7, "status": "checked_in",
                            "start": "2026-11-26T09:30:00+00:00",
                            "patient_name": f"{p['given_name']} {p['family_name']}",
                            "patient_mrn": p["mrn"], "reason": "Follow-up"}])

    def _break_glass(self, request: httpx.Request, pid: str) -> httpx.Response:
        reason = json.loads(request.content).get("reason", "")
        if len(reason.strip()) < 10:
            return problem(422, "reason_required", "Give a reason.")
        self.break_glass_reasons.append(reason)
        self.glass.add(int(pid))
        return self._json({"id": 1, "expires_at": _iso(NOW + timedelta(hours=1))}, 201)

    def _timeline(self, request: httpx.Request, pid: int) -> httpx.Response:
        items = [{"kind": "vitals", "id": v["id"], "at": v["recorded_at"],
                  "summary": f"BP {v['systolic_mmhg']}/{v['diastolic_mmhg']}",
                  "encounter_id": None, "flag": None} for v in self.vitals.get(pid, [])]
        items += [{"kind": "note", "id": n["id"], "at": n["created_at"], "summary": n["title"],
                   "encounter_id": None, "flag": None} for n in self.notes.get(pid, [])]
        items.sort(key=lambda i: i["at"], reverse=True)
        return self._page(items)

    def _create_note(self, request: httpx.Request, pid: int) -> httpx.Response:
        body = json.loads(request.content)
        note = self._note_row(pid, len(self.notes.get(pid, [])) + 1, body.get("title"),
                              body.get("subjective"), signed=body.get("sign", False))
        for key in ("objective", "assessment", "plan"):
            note["current"][key] = body.get(key)
        self.notes.setdefault(pid, []).insert(0, note)
        return self._json(note, 201)

    def _amend_note(self, request: httpx.Request, pid: str, note_id: str) -> httpx.Response:
        body = json.loads(request.content)
        note = next(n for n in self.notes[int(pid)] if n["id"] == int(note_id))
        if body["version"] != note["version"]:
            return problem(409, "version_conflict", "The note was amended meanwhile.")
        version = {**note["current"], "version_no": note["version"] + 1,
                   "amendment_reason": body["reason"], "signed_at": _iso(NOW), "signed": True}
        for key in ("subjective", "objective", "assessment", "plan"):
            version[key] = body.get(key)
        note["versions"].append(version)
        note["current"], note["version"] = version, version["version_no"]
        return self._json(note, 201)

    def _list_vitals(self, request: httpx.Request, pid: int) -> httpx.Response:
        rows = sorted(self.vitals.get(pid, []), key=lambda v: v["recorded_at"], reverse=True)
        return self._page(rows)

    def _record_vitals(self, request: httpx.Request, pid: int) -> httpx.Response:
        body = json.loads(request.content)
        row = self._vitals_row(pid, NOW, body.get("systolic_mmhg"), body.get("diastolic_mmhg"),
                               body.get("heart_rate_bpm"))
        row.update({k: v for k, v in body.items() if k != "notes"})
        self.vitals.setdefault(pid, []).append(row)
        return self._json(row, 201)

    def _add_allergy(self, request: httpx.Request, pid: int) -> httpx.Response:
        body = json.loads(request.content)
        row = {"id": 100 + len(self.allergies.get(pid, [])), "patient_id": pid,
               "status": "active", "recorded_at": _iso(NOW), **body}
        self.allergies.setdefault(pid, []).append(row)
        return self._json(row, 201)

    def _add_problem(self, request: httpx.Request, pid: int) -> httpx.Response:
        body = json.loads(request.content)
        row = {"id": 200 + len(self.problems.get(pid, [])), "patient_id": pid,
               "status": "active", **body}
        self.problems.setdefault(pid, []).append(row)
        return self._json(row, 201)

    def _icd10(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "").lower()
        return self._page([{"code": c, "description": d, "billable": True} for c, d in ICD10
                           if q in c.lower() or q in d.lower()])

    def _formulary(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params.get("q", "").lower()
        return self._page([d for d in FORMULARY if q in d["generic_name"]])

    def _prescribe(self, request: httpx.Request) -> httpx.Response:
        _user, error = self._require(request, "doctor")
        if error:
            return error
        body = json.loads(request.content)
        pid = body["patient_id"]
        if pid not in self.care_team | self.glass:
            return problem(403, "care_relationship_required", "Not in the care team.")
        ids = {i["drug_id"] for i in body["items"]}
        ids |= {i["drug_id"] for rx in self.prescriptions if rx["patient_id"] == pid
                for i in rx["items"]}
        if {1, 2} <= ids and not body.get("override_reason"):
            conflicts = [{"type": "interaction", "drug_ids": [1, 2], "severity": "major",
                          "reason": "warfarin + aspirin: increased risk of bleeding."}]
            response = problem(409, "interaction", "Safety check found 1 problem(s).")
            payload = {**response.json(), "conflicts": conflicts, "override_allowed": True}
            return httpx.Response(409, json=payload,
                                  headers={"content-type": "application/problem+json"})
        rx = {"id": 900 + len(self.prescriptions), "number": f"RX-{len(self.prescriptions) + 1}",
              "patient_id": pid, "items": body["items"],
              "override_reason": body.get("override_reason")}
        self.prescriptions.append(rx)
        return self._json({"id": rx["id"], "number": rx["number"]}, 201)

    def _get_prescription(self, request: httpx.Request, rx_id: str) -> httpx.Response:
        rx = next(r for r in self.prescriptions if r["id"] == int(rx_id))
        return self._json(rx)
