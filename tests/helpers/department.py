"""A department's admission request as the web form takes it."""

FORM = {"list": "assisting", "title": "社区高龄老人助餐需求登记", "content": "协助民政局登记高龄老人的助餐需求。",
        "targets": ["430121001"], "community_role": "assisting", "basis": "《中华人民共和国老年人权益保障法》",
        "funding_yuan": "20000", "funding_source": "县级财政", "staff": "0", "start_date": "2030-03-01",
        "justification": "落实县政府助餐服务部署。", "report_frequency": "once"}
