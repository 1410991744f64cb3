"""FAQ search: Chinese queries find entries inside words, best match first."""

import pytest

from callcentre.models import FaqEntry
from callcentre.search import terms
from callcentre.selectors import faq_search


def test_chinese_text_is_cut_into_pairs_and_characters():
    words, characters = terms("水压低 Meter读数")
    assert {"水压", "压低", "meter", "读数"} <= words
    assert {"水", "压", "低"} <= characters


@pytest.fixture
def manual(db):
    entries = [
        (
            "为什么我家水压低？",
            "高峰时段用水量大，水压会偏低；持续偏低请报修。",
            "供水",
            "水压 压力",
        ),
        (
            "停水后多久恢复供水？",
            "计划停水会提前公告，抢修一般 4 小时内恢复。",
            "供水",
            "停水 来水",
        ),
        ("水费怎么计算？", "按阶梯水价计算，详见水费单。", "缴费", "水费 阶梯"),
        ("水质检测多久一次？", "二次供水每季度检测一次，可在公众号查询报告。", "水质", "检测"),
        ("热水器不出水是水压问题吗？", "先检查热水器本身，再看是否水压低。", "供水", ""),
    ]
    for question, answer, category, keywords in entries:
        FaqEntry.objects.create(
            question=question, answer=answer, category=category, keywords=keywords
        )
    FaqEntry.objects.create(question="水压草稿", answer="未发布", is_published=False)


@pytest.mark.django_db
def test_a_query_for_water_pressure_finds_the_low_pressure_answer_first(manual):
    found = faq_search(query="水压")
    assert found[0].question == "为什么我家水压低？"
    assert "热水器不出水是水压问题吗？" in [entry.question for entry in found]
    assert "水压草稿" not in [entry.question for entry in found]  # not published
    assert found[0].score > found[-1].score


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("什么时候来水", "停水后多久恢复供水？"),
        ("水费", "水费怎么计算？"),
        ("水质报告", "水质检测多久一次？"),
    ],
)
def test_the_best_match_comes_first(query, best, manual):
    assert faq_search(query=query)[0].question == best


@pytest.mark.django_db
def test_an_edited_entry_is_found_by_its_new_words(manual):
    entry = FaqEntry.objects.get(question="水费怎么计算？")
    entry.keywords = "电子发票"
    entry.save(update_fields=["keywords"])
    assert faq_search(query="发票")[0].pk == entry.pk


@pytest.mark.django_db
def test_the_faq_api_searches_for_front_desk_roles_only(manual, centre, api):
    response = api(centre.agent).get("/api/v1/faq/", {"q": "水压"})
    assert response.status_code == 200
    assert response.json()[0]["question"] == "为什么我家水压低？"
    assert api(centre.crew_leader).get("/api/v1/faq/", {"q": "水压"}).status_code == 403
    empty = api(centre.agent).get("/api/v1/faq/", {"q": " "})
    assert empty.status_code == 400
    assert set(empty.json()["fields"]) == {"q"}
    assert api(centre.agent).get("/api/v1/faq/", {"q": "？？"}).json() == []


@pytest.mark.django_db
def test_a_one_character_query_finds_entries_holding_it(manual):
    found = faq_search(query="费")
    assert [entry.question for entry in found] == ["水费怎么计算？"]
