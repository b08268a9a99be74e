/* The view of the enrolment office and planners: after login with an API key, the forecast
 * first-grade seat shortfall per zone or ward on the map, placement runs by school (fill,
 * cut-off), zone versions side by side with where their first-graders are estimated to live,
 * and (planners) a scenario against the baseline with the homes of the children whose zone
 * school changes drawn on the map.
 */
(function () {
  "use strict";

  var TEXT = {
    vi: {
      title: "Tuyển sinh và quy hoạch",
      lang_button: "English",
      lang_aria: "Switch to English",
      key_label: "Khoá API của cán bộ (tuyển sinh hoặc quy hoạch)",
      login: "Đăng nhập",
      who: "Đã đăng nhập: {name} ({role})",
      refused: "Vai trò {role} không mở được trang này",
      forecast_heading: "Dự báo chỗ học lớp 1",
      year_label: "Năm học",
      level_label: "Theo",
      level_zone: "vùng tuyển sinh",
      level_ward: "phường",
      versions_heading: "So sánh phương án vùng tuyển sinh",
      version_label: "Phương án so với phương án đang công bố",
      layer_wards: "Phường, xã",
      layer_zones: "Vùng tuyển sinh lớp 1",
      layer_other: "Phương án được chọn",
      points_label: "Nơi ở ước tính của trẻ 6 tuổi (phương án được chọn)",
      points_figures: "{points} điểm, {children} trẻ 6 tuổi ước tính (dân số điều tra 2019 của phường rải theo đường phố)",
      point_tooltip: "{children} trẻ 6 tuổi · {ward} · trường theo vùng: {school} · {distance} m đi bộ",
      col_area: "Nơi",
      col_entrants: "Trẻ vào lớp 1 (thấp–cao)",
      col_shortfall: "Thiếu chỗ",
      col_school: "Trường",
      col_children_published: "Trẻ (công bố)",
      col_children_other: "Trẻ (phương án)",
      short: "thiếu > 50",
      short_some: "thiếu 1–50",
      room_some: "dư 0–50",
      room: "dư > 50",
      unknown: "chưa rõ số chỗ",
      assumed: "số chỗ theo số lớp giả định",
      none_published: "Chưa có phương án vùng tuyển sinh nào được công bố.",
      placement_heading: "Xếp chỗ lớp 1",
      run_label: "Đợt tuyển sinh và lần xếp chỗ",
      no_runs: "Chưa có lần xếp chỗ nào.",
      run_option: "{round} · lần {run} ({method}, {status})",
      run_figures: "{children} trẻ; nguyện vọng 1: {first}; có chỗ theo nguyện vọng: {any}; xếp theo trường gần nhất: {guaranteed}; chưa có chỗ: {unseated}",
      col_seats: "Chỗ",
      col_seated: "Đã xếp (lấp đầy)",
      col_cutoff: "Điểm chuẩn (nhóm, khoảng cách)",
      no_cutoff: "không hết chỗ",
      scenarios_heading: "Kịch bản quy hoạch",
      scenario_label: "Kịch bản so với hiện trạng",
      no_scenarios: "Chưa có kịch bản nào.",
      scenario_figures: "{moved} trẻ đổi trường theo vùng (chấm tím trên bản đồ); {planned} trường dự kiến",
      col_figure: "Chỉ số",
      col_baseline: "Hiện trạng",
      col_scenario: "Kịch bản",
      col_change: "Thay đổi",
      fig_mean_walk: "Quãng đường đi bộ trung bình (m)",
      fig_p90_walk: "Đi bộ, 90% trẻ trong vòng (m)",
      fig_within_1km: "Trẻ trong 1 km đi bộ",
      fig_within_2km: "Trẻ trong 2 km đi bộ",
      fig_no_seat: "Trẻ chưa có chỗ",
      fig_spare: "Chỗ còn dư năm {year}",
      error: "Không tải được: {v}"
    },
    en: {
      title: "Enrolment and planning",
      lang_button: "Tiếng Việt",
      lang_aria: "Chuyển sang tiếng Việt",
      key_label: "Staff API key (enrolment office or planner)",
      login: "Log in",
      who: "Logged in: {name} ({role})",
      refused: "The role {role} cannot open this page",
      forecast_heading: "First-grade seat forecast",
      year_label: "School year",
      level_label: "By",
      level_zone: "admission zone",
      level_ward: "ward",
      versions_heading: "Admission zone versions side by side",
      version_label: "Version compared with the published one",
      layer_wards: "Wards and communes",
      layer_zones: "First-grade admission zones",
      layer_other: "Chosen version",
      points_label: "Where the six-year-olds are estimated to live (chosen version)",
      points_figures: "{points} points, {children} six-year-olds estimated (each ward's 2019 census count spread over its streets)",
      point_tooltip: "{children} six-year-olds · {ward} · zone school: {school} · {distance} m walk",
      col_area: "Area",
      col_entrants: "First-graders (low–high)",
      col_shortfall: "Seats short",
      col_school: "School",
      col_children_published: "Children (published)",
      col_children_other: "Children (version)",
      short: "short > 50",
      short_some: "short 1–50",
      room_some: "room 0–50",
      room: "room > 50",
      unknown: "seats unknown",
      assumed: "seats from an assumed class count",
      none_published: "No admission zone version is published yet.",
      placement_heading: "First-grade placement",
      run_label: "Admission round and placement run",
      no_runs: "No placement run yet.",
      run_option: "{round} · run {run} ({method}, {status})",
      run_figures: "{children} children; first choice: {first}; any choice: {any}; seated by the guarantee: {guaranteed}; without a seat: {unseated}",
      col_seats: "Seats",
      col_seated: "Seated (fill)",
      col_cutoff: "Cut-off (group, distance)",
      no_cutoff: "not full",
      scenarios_heading: "Planning scenarios",
      scenario_label: "Scenario against the baseline",
      no_scenarios: "No scenario yet.",
      scenario_figures: "{moved} children change zone school (purple dots on the map); {planned} planned school(s)",
      col_figure: "Figure",
      col_baseline: "Baseline",
      col_scenario: "Scenario",
      col_change: "Change",
      fig_mean_walk: "Mean walking distance (m)",
      fig_p90_walk: "Walking, 90 % of children within (m)",
      fig_within_1km: "Children within 1 km walking",
      fig_within_2km: "Children within 2 km walking",
      fig_no_seat: "Children without a seat",
      fig_spare: "Spare seats in {year}",
      error: "Could not load: {v}"
    }
  };
  var OFFICE_ROLES = ["enrolment_officer", "planner", "admin"];
  var PLANNER_ROLES = ["planner", "admin"];
  var SCENARIO_FIGURES = [
    { key: "mean_distance_m.walk", label: "fig_mean_walk" },
    { key: "p90_distance_m.walk", label: "fig_p90_walk" },
    { key: "within_1km_walk_share", label: "fig_within_1km", share: true },
    { key: "within_2km_walk_share", label: "fig_within_2km", share: true },
    { key: "shortfall_children", label: "fig_no_seat" }
  ];
  var CLASSES = [
    { key: "short", colour: "#b2182b", test: function (v) { return v > 50; } },
    { key: "short_some", colour: "#f4a582", test: function (v) { return v > 0; } },
    { key: "room_some", colour: "#a6dba0", test: function (v) { return v > -50; } },
    { key: "room", colour: "#1b7837", test: function () { return true; } }
  ];
  var UNKNOWN = "#bdbdbd";

  var common = window.SchoolGIS;
  var el = common.el;
  var language = new common.Language(TEXT);
  var t = language.t.bind(language);
  var number = language.number.bind(language);
  var state = { key: null, forecast: null, versions: null, other: null, points: null, pointsLayer: null, run: null, comparison: null };

  function api(path) {
    return common.getJSON(state.config.apiBase + path, { Authorization: "Bearer " + state.key });
  }

  function colourOf(item) {
    var short = item && item.seat_shortfall && item.seat_shortfall.central;
    if (short == null) {
      return UNKNOWN;
    }
    return CLASSES.filter(function (c) { return c.test(short); })[0].colour;
  }

  function fail(error) {
    document.getElementById("sg-who").textContent = t("error", { v: error.message });
  }

  function table(node, head, rows) {
    node.textContent = "";
    node.appendChild(el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { scope: "col" }, [h]); }))]));
    node.appendChild(el("tbody", {}, rows.map(function (row) {
      return el("tr", { "data-code": row.code }, row.cells.map(function (c) { return el("td", {}, [c]); }));
    })));
  }

  function drawForecast() {
    var forecast = state.forecast;
    if (!forecast) {
      return;
    }
    var byCode = {};
    forecast.items.forEach(function (item) { byCode[item.code] = item; });
    var layers = state.config.layers;
    var coloured = forecast.level === "zone" ? layers.zones : layers.wards;
    var other = forecast.level === "zone" ? layers.wards : layers.zones;
    if (other) {
      other.setStyle({ fillOpacity: 0, fillColor: UNKNOWN });
    }
    if (coloured) {
      coloured.setStyle(function (feature) {
        var code = forecast.level === "zone" ? feature.properties.school_code : feature.properties.code;
        return { fillColor: colourOf(byCode[code]), fillOpacity: 0.6 };
      });
      coloured.bringToFront();
    }
    var legend = document.getElementById("sg-legend");
    legend.textContent = "";
    CLASSES.concat([{ key: "unknown", colour: UNKNOWN }]).forEach(function (c) {
      legend.appendChild(el("span", {}, [el("i", { style: "background:" + c.colour }), t(c.key)]));
    });
    table(
      document.getElementById("sg-forecast"),
      [t("col_area"), t("col_entrants"), t("col_shortfall")],
      forecast.items.map(function (item) {
        var e = item.first_grade_entrants;
        var short = item.seat_shortfall ? number(item.seat_shortfall.central) : t("unknown");
        var note = item.seats_assumed ? " *" : "";
        return {
          code: item.code,
          cells: [item.name, number(e.central) + " (" + number(e.low) + "–" + number(e.high) + ")", short + note]
        };
      })
    );
  }

  function loadForecast() {
    var year = document.getElementById("sg-year").value;
    var level = document.getElementById("sg-level").value;
    var query = "/api/v1/forecasts?level=" + level + (year ? "&year=" + year : "");
    return api(query).then(function (forecast) {
      state.forecast = forecast;
      var select = document.getElementById("sg-year");
      if (!select.options.length) {
        for (var y = forecast.horizon[0]; y <= forecast.horizon[1]; y++) {
          select.appendChild(el("option", { value: String(y) }, [y + "–" + (y + 1)]));
        }
        select.value = String(forecast.year);
      }
      drawForecast();
    });
  }

  function drawVersions() {
    var node = document.getElementById("sg-versions");
    var published = state.config.data.zoneVersion;
    if (!published) {
      node.textContent = "";
      node.appendChild(el("caption", {}, [t("none_published")]));
      return;
    }
    var published_children = {};
    (state.config.layers.zones ? state.config.layers.zones.toGeoJSON().features : []).forEach(function (f) {
      published_children[f.properties.school_code] = f.properties.children;
    });
    var other = {};
    (state.other ? state.other.features : []).forEach(function (f) {
      other[f.properties.school_code] = f.properties;
    });
    var codes = Object.keys(published_children).sort();
    table(node, [t("col_school"), t("col_children_published"), t("col_children_other")], codes.map(function (code) {
      var name = (state.config.data.schools.filter(function (s) { return s.code === code; })[0] || {}).name || code;
      var mine = other[code];
      return { code: code, cells: [name, number(published_children[code]), mine ? number(mine.children) : "–"] };
    }));
  }

  function loadOther(version) {
    if (state.otherLayer) {
      state.map.removeLayer(state.otherLayer);
      state.otherLayer = null;
    }
    return api("/api/v1/zones?version=" + encodeURIComponent(version)).then(function (zones) {
      state.other = zones;
      state.otherLayer = L.geoJSON(zones, {
        style: { color: "#54278f", weight: 3, dashArray: "6 5", fill: false },
        interactive: false
      }).addTo(state.map);
      drawVersions();
    });
  }

  function pointTooltip(properties) {
    var school = (state.config.data.schools.filter(function (s) { return s.code === properties.school_code; })[0] || {}).name;
    var ward = state.config.layers.wards.toGeoJSON().features.filter(function (f) {
      return f.properties.code === properties.ward_code;
    })[0];
    return t("point_tooltip", {
      children: number(properties.children),
      ward: ward ? ward.properties.name : properties.ward_code,
      school: school || properties.school_code || "–",
      distance: properties.distance_m == null ? "–" : number(Math.round(properties.distance_m))
    });
  }

  function drawPoints() {
    var node = document.getElementById("sg-points-figures");
    if (!state.points) {
      node.textContent = "";
      return;
    }
    var children = state.points.features.reduce(function (sum, f) { return sum + f.properties.children; }, 0);
    node.textContent = t("points_figures", { points: number(state.points.features.length), children: number(Math.round(children)) });
  }

  function loadPoints() {
    if (state.pointsLayer) {
      state.map.removeLayer(state.pointsLayer);
      state.pointsLayer = null;
    }
    var version = document.getElementById("sg-version").value;
    if (!document.getElementById("sg-points").checked || !version) {
      state.points = null;
      drawPoints();
      return Promise.resolve();
    }
    return api("/api/v1/zones/points?version=" + encodeURIComponent(version)).then(function (points) {
      state.points = points;
      state.pointsLayer = L.geoJSON(points, {
        pointToLayer: function (feature, at) {
          return L.circleMarker(at, {
            radius: 1.5 + Math.sqrt(feature.properties.children),
            color: "#08519c", weight: 1, fillColor: "#6baed6", fillOpacity: 0.6
          });
        },
        onEachFeature: function (feature, marker) {
          marker.bindTooltip(function () { return pointTooltip(feature.properties); });
        }
      }).addTo(state.map);
      drawPoints();
    });
  }

  function loadVersions() {
    return api("/api/v1/zones/versions").then(function (versions) {
      var select = document.getElementById("sg-version");
      select.textContent = "";
      versions.forEach(function (v) {
        select.appendChild(el("option", { value: String(v.id) }, [v.name + " (" + v.method + ", " + v.status + ")"]));
      });
      drawVersions();
      if (versions.length) {
        return Promise.all([loadOther(select.value), loadPoints()]);
      }
      return null;
    });
  }

  function percent(share) {
    return share == null ? "–" : (share * 100).toLocaleString(language.lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 }) + " %";
  }

  function drawRun() {
    var node = document.getElementById("sg-placement");
    var figures = document.getElementById("sg-run-figures");
    var run = state.run;
    if (!run || !run.statistics) {
      node.textContent = "";
      figures.textContent = t("no_runs");
      return;
    }
    var stats = run.statistics;
    figures.textContent = t("run_figures", {
      children: number(stats.children),
      first: percent(stats.first_choice_share),
      any: percent(stats.any_choice_share),
      guaranteed: number(stats.guaranteed_children),
      unseated: number(stats.unseated_children)
    });
    table(node, [t("col_school"), t("col_seats"), t("col_seated"), t("col_cutoff")], stats.schools.map(function (s) {
      var fill = s.seats ? " (" + percent(s.seated / s.seats) + ")" : "";
      var cutoff = s.cutoff ? s.cutoff.priority + ", " + number(s.cutoff.distance_m) + " m" : t("no_cutoff");
      return { code: s.code, cells: [s.name, number(s.seats), number(s.seated) + fill, cutoff] };
    }));
  }

  function loadRun(value) {
    if (!value) {
      state.run = null;
      drawRun();
      return Promise.resolve();
    }
    var ids = value.split("/");
    return api("/api/v1/rounds/" + ids[0] + "/placement/" + ids[1]).then(function (run) {
      state.run = run;
      drawRun();
    });
  }

  function loadRuns() {
    return api("/api/v1/rounds").then(function (rounds) {
      return Promise.all(rounds.map(function (round) {
        return api("/api/v1/rounds/" + round.id + "/placement").then(function (runs) {
          return runs.map(function (run) { return { round: round, run: run }; });
        });
      }));
    }).then(function (lists) {
      var select = document.getElementById("sg-run");
      select.textContent = "";
      [].concat.apply([], lists).forEach(function (item) {
        select.appendChild(el("option", { value: item.round.id + "/" + item.run.id }, [
          t("run_option", { round: item.round.name, run: item.run.id, method: item.run.method, status: item.run.status })
        ]));
      });
      return loadRun(select.value).catch(function (error) {
        document.getElementById("sg-run-figures").textContent = t("error", { v: error.message });
      });
    });
  }

  function signed(value, text) {
    return (value > 0 ? "+" : "") + text;
  }

  function drawScenario() {
    var node = document.getElementById("sg-scenario-table");
    var figures = document.getElementById("sg-scenario-figures");
    var compared = state.comparison;
    if (!compared) {
      node.textContent = "";
      figures.textContent = t("no_scenarios");
      return;
    }
    var base = compared.baseline;
    var mine = compared.scenarios[0];
    var rows = SCENARIO_FIGURES.map(function (f) {
      var show = f.share ? percent : number;
      var change = mine.change[f.key];
      return {
        code: f.key,
        cells: [t(f.label), show(base.figures[f.key]), show(mine.figures[f.key]),
                change == null ? "–" : signed(change, show(change))]
      };
    });
    var year = base.forecast[0];
    var spare = mine.forecast[0].spare_seats_central - year.spare_seats_central;
    rows.push({
      code: "spare_seats",
      cells: [t("fig_spare", { year: year.year }), number(year.spare_seats_central),
              number(mine.forecast[0].spare_seats_central), signed(spare, number(spare))]
    });
    table(node, [t("col_figure"), t("col_baseline"), t("col_scenario"), t("col_change")], rows);
    var planned = mine.schools.filter(function (s) { return s.status === "planned"; });
    figures.textContent = t("scenario_figures", { moved: number(mine.moved_children), planned: planned.length });
  }

  function loadScenario(id) {
    if (state.scenarioLayer) {
      state.map.removeLayer(state.scenarioLayer);
      state.scenarioLayer = null;
    }
    if (!id) {
      state.comparison = null;
      drawScenario();
      return Promise.resolve();
    }
    return api("/api/v1/scenarios/compare?ids=" + encodeURIComponent(id)).then(function (compared) {
      state.comparison = compared;
      var mine = compared.scenarios[0];
      var layer = L.layerGroup();
      L.geoJSON(mine.moved, {
        pointToLayer: function (feature, at) {
          return L.circleMarker(at, {
            radius: 2 + Math.sqrt(feature.properties.children || 0),
            color: "#54278f", weight: 1, fillColor: "#807dba", fillOpacity: 0.7
          });
        },
        onEachFeature: function (feature, marker) {
          var p = feature.properties;
          marker.bindTooltip(p.from_school + " → " + p.to_school + ": " + number(p.children));
        }
      }).addTo(layer);
      mine.schools.filter(function (s) { return s.status === "planned"; }).forEach(function (s) {
        L.circleMarker([s.lat, s.lon], {
          radius: 9, color: "#54278f", weight: 3, fillColor: "#ffffff", fillOpacity: 1
        }).bindTooltip(s.name).addTo(layer);
      });
      state.scenarioLayer = layer.addTo(state.map);
      drawScenario();
    });
  }

  function loadScenarios() {
    var section = document.getElementById("sg-scenarios");
    if (PLANNER_ROLES.indexOf(state.caller.role) < 0) {
      section.hidden = true;
      return Promise.resolve();
    }
    section.hidden = false;
    return api("/api/v1/scenarios").then(function (scenarios) {
      var select = document.getElementById("sg-scenario");
      select.textContent = "";
      scenarios.forEach(function (s) {
        select.appendChild(el("option", { value: String(s.id) }, [s.name]));
      });
      return loadScenario(select.value).catch(function (error) {
        document.getElementById("sg-scenario-figures").textContent = t("error", { v: error.message });
      });
    });
  }

  function login(key) {
    state.key = key;
    return api("/api/v1/me").then(function (caller) {
      var who = document.getElementById("sg-who");
      if (OFFICE_ROLES.indexOf(caller.role) < 0) {
        who.textContent = t("refused", { role: caller.role });
        return null;
      }
      try { window.sessionStorage.setItem("schoolgis.key", key); } catch (e) { /* private mode */ }
      state.caller = caller;
      who.textContent = t("who", caller);
      document.getElementById("sg-work").hidden = false;
      return Promise.all([loadForecast(), loadVersions(), loadRuns(), loadScenarios()]);
    }).catch(fail);
  }

  function start(map, config) {
    state.map = map;
    state.config = config;
    common.prepareMap(map, config.data, document.getElementById("sg-panel"));
    language.toggleWith(document.getElementById("sg-lang"));
    language.listeners.push(function () {
      if (state.caller) {
        document.getElementById("sg-who").textContent = t("who", state.caller);
      }
      drawForecast();
      if (state.caller) {
        drawVersions();
        drawPoints();
        drawRun();
        drawScenario();
      }
    });
    document.getElementById("sg-login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      login(document.getElementById("sg-key").value.trim());
    });
    document.getElementById("sg-year").addEventListener("change", function () { loadForecast().catch(fail); });
    document.getElementById("sg-level").addEventListener("change", function () { loadForecast().catch(fail); });
    document.getElementById("sg-run").addEventListener("change", function (event) {
      loadRun(event.currentTarget.value).catch(fail);
    });
    document.getElementById("sg-scenario").addEventListener("change", function (event) {
      loadScenario(event.currentTarget.value).catch(fail);
    });
    document.getElementById("sg-version").addEventListener("change", function (event) {
      loadOther(event.currentTarget.value).catch(fail);
      loadPoints().catch(fail);
    });
    document.getElementById("sg-points").addEventListener("change", function () { loadPoints().catch(fail); });
    language.apply();
    var saved = null;
    try { saved = window.sessionStorage.getItem("schoolgis.key"); } catch (e) { /* private mode */ }
    if (saved) {
      login(saved);
    }
  }

  window.SchoolOffice = { start: start, state: state };
})();
